-- Events with seq > after_seq in seq order (see starcite.check_read for what is checked first). One query, so
-- the bounds check and the rows read one snapshot: they agree even while retention deletes concurrently. A SQL
-- function the planner inlines, with check_read as a one-time filter above the limit (see starcite.read_text,
-- built the same way, for why not PL/pgSQL).
create function starcite.read(session_id text, after_seq bigint default 0, max_events integer default 100,
                              tenant_id text default null)
returns setof starcite.events
language sql stable as $$
  select page.*
  from (select e.* from starcite.events e
        where e.session_id = read.session_id and e.seq > read.after_seq
        order by e.seq
        limit read.max_events) page
  where (select starcite.check_read(read.session_id, read.after_seq, read.max_events, 'events_per_read',
                                    read.tenant_id))
$$;
