-- Events with seq > after_seq in seq order (see starcite.check_read for what is checked first). One query, so
-- the bounds check and the rows read one snapshot: they agree even while retention deletes concurrently.
--
-- A SQL function, so that the planner inlines it into the caller's query (read_text's too, which reads through
-- it): rows then stream from the index scan to the client as they are read. A PL/pgSQL `return query` first
-- copies every row into a tuplestore, and that copy, with the page faults of the memory it takes, was about a
-- third of Postgres's CPU per event while a server caught readers up. check_read is an uncorrelated scalar
-- subquery in the outer WHERE, which the planner turns into a one-time filter above the limit: it runs once,
-- before any row is read (and before LIMIT judges max_events, which check_read rejects first when it is out of
-- bounds), in the same snapshot as the rows.
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
