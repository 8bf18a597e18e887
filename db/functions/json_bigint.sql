-- A JSON number or string of at most 18 digits (optionally negative) as bigint; null for anything else.
create function starcite.json_bigint(value jsonb) returns bigint
language sql immutable parallel safe as $$
  select case when jsonb_typeof(json_bigint.value) in ('number', 'string')
                   and (json_bigint.value #>> '{}') ~ '^-?[0-9]{1,18}$'
              then (json_bigint.value #>> '{}')::bigint end
$$;
