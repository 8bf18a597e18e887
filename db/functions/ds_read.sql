-- A Durable Streams catch-up page: the session's events with seq > after_seq in seq order, at most max_events,
-- and no more than about max_bytes of them (always at least one).
create function starcite.ds_read(session_id text, after_seq bigint, max_events integer, max_bytes bigint,
                                 tenant_id text default null)
returns setof starcite.events
language plpgsql stable as $$
begin
  perform starcite.check_page_size(ds_read.max_events, 'events_per_read');
  if not exists (select 1 from starcite.sessions s
                 where s.id = ds_read.session_id and s.tenant_id = starcite.resolve_tenant(ds_read.tenant_id)) then
    perform starcite.raise_error('session_not_found', format('session %s does not exist', ds_read.session_id),
      jsonb_build_object('session_id', ds_read.session_id));
  end if;
  return query
    select (p.e).* from (
      select q.e, q.size, sum(q.size) over (order by (q.e).seq) as running
      from (select e, pg_column_size(e.payload) + coalesce(octet_length(e.body), 0) as size
            from starcite.events e
            where e.session_id = ds_read.session_id and e.seq > ds_read.after_seq
            order by e.seq
            limit ds_read.max_events) q) p
    where p.running - p.size < ds_read.max_bytes
    order by (p.e).seq;
end
$$;
