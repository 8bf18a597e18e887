-- Events with seq > after_seq in seq order.
create function starcite.read(session_id text, after_seq bigint default 0, max_events integer default 100,
                              tenant_id text default null)
returns setof starcite.events
language plpgsql stable as $$
begin
  if after_seq is null or after_seq < 0 then
    perform starcite.raise_error('invalid_argument', 'after_seq must be >= 0', '{"field":"after_seq"}');
  end if;
  perform starcite.check_page_size(read.max_events, 'events_per_read');
  if not exists (select 1 from starcite.sessions s
                 where s.id = read.session_id and s.tenant_id = starcite.resolve_tenant(read.tenant_id)) then
    perform starcite.raise_error('session_not_found', format('session %s does not exist', read.session_id),
      jsonb_build_object('session_id', read.session_id));
  end if;
  return query
    select e.* from starcite.events e
    where e.session_id = read.session_id and e.seq > read.after_seq
    order by e.seq
    limit read.max_events;
end
$$;
