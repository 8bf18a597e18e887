-- Many events into one session in one statement (one notification). The batch's session and tenant win over
-- any session_id or tenant_id inside the items.
create function starcite.append_batch(session_id text, events jsonb, atomic boolean default false,
                                      tenant_id text default null)
returns table (idx integer, seq bigint, last_seq bigint, deduped boolean, error_code text, error_message text)
language plpgsql volatile as $$
declare
  _tenant text := starcite.resolve_tenant(append_batch.tenant_id);
begin
  if events is null or jsonb_typeof(events) <> 'array' then
    perform starcite.raise_error('invalid_argument', 'events must be a JSON array', '{"field":"events"}');
  end if;
  return query
    select r.idx, r.seq, r.last_seq, r.deduped, r.error_code, r.error_message
    from starcite.append_items(
      (select coalesce(jsonb_agg(
                case when jsonb_typeof(e) = 'object'
                     then e || jsonb_build_object('session_id', append_batch.session_id, 'tenant_id', _tenant)
                     else e end
                order by o), '[]')
       from jsonb_array_elements(events) with ordinality as x(e, o)),
      append_batch.atomic) r;
end
$$;
