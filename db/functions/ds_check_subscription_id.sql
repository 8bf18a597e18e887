-- Raises invalid_argument unless id can name a subscription: 1-256 characters of [A-Za-z0-9_.:-], starting with a
-- letter or digit (it is a URL path segment).
create function starcite.ds_check_subscription_id(id text) returns void
language plpgsql immutable as $$
begin
  if ds_check_subscription_id.id is null or ds_check_subscription_id.id !~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,255}$' then
    perform starcite.raise_error('invalid_argument',
      'a subscription id is 1-256 characters of [A-Za-z0-9_.:-], starting with a letter or digit', '{"field":"id"}');
  end if;
end
$$;
