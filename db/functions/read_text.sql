-- starcite.read with the JSON columns as JSON text (the same checks, errors and rows): for a reader that writes
-- JSON anyway, such as the server's catch-up frames, which paste each payload's text instead of parsing and
-- serialising it again.
--
-- A SQL function, so that the planner inlines it into the caller's query: rows then stream from the index scan
-- to the client as they are read. A PL/pgSQL `return query` first copies every row into a tuplestore, and that
-- copy, with the page faults of the memory it takes, was about half of Postgres's CPU per event while a server
-- caught readers up. check_read is an uncorrelated scalar subquery in the outer WHERE, which the planner turns
-- into a one-time filter above the limit: it runs once, before any row is read (and before LIMIT judges
-- max_events, which check_read rejects first when it is out of bounds), in the same snapshot as the rows.
create function starcite.read_text(session_id text, after_seq bigint default 0, max_events integer default 100,
                                   tenant_id text default null)
returns setof starcite.event_text
language sql stable as $$
  select page.*
  from (select e.seq, e.session_id, e.type, starcite.payload_text(e.payload, e.body), e.actor, e.source,
               e.metadata::text, e.refs::text, e.idempotency_key, e.producer_id, e.producer_seq, e.inserted_at
        from starcite.events e
        where e.session_id = read_text.session_id and e.seq > read_text.after_seq
        order by e.seq
        limit read_text.max_events) page
  where (select starcite.check_read(read_text.session_id, read_text.after_seq, read_text.max_events,
                                    'events_per_read', read_text.tenant_id))
$$;
