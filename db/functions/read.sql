-- Events with seq > after_seq in seq order. A cursor before the first event still in Postgres raises
-- cursor_expired (with the earliest seq a reader can still get, the archive included) instead of skipping.
-- Stable, so every statement here reads one snapshot: the bounds and the rows agree even while retention
-- deletes concurrently.
create function starcite.read(session_id text, after_seq bigint default 0, max_events integer default 100,
                              tenant_id text default null)
returns setof starcite.events
language plpgsql stable as $$
declare
  _bounds starcite.log_bounds;
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
  select b.* into _bounds from starcite.log_bounds b where b.session_id = read.session_id;
  if _bounds.first_seq is not null and read.after_seq + 1 < _bounds.first_seq then
    perform starcite.raise_cursor_expired(read.session_id, read.after_seq, _bounds);
  end if;
  return query
    select e.* from starcite.events e
    where e.session_id = read.session_id and e.seq > read.after_seq
    order by e.seq
    limit read.max_events;
end
$$;
