-- starcite.read with the JSON columns as JSON text (the same checks, errors and rows): for a reader that writes
-- JSON anyway, such as the server's catch-up frames, which paste each payload's text instead of parsing and
-- serialising it again. Like read, a SQL function the planner inlines, read and all.
create function starcite.read_text(session_id text, after_seq bigint default 0, max_events integer default 100,
                                   tenant_id text default null)
returns setof starcite.event_text
language sql stable as $$
  select e.seq, e.session_id, e.type, starcite.payload_text(e.payload, e.body), e.actor, e.source,
         e.metadata::text, e.refs::text, e.idempotency_key, e.producer_id, e.producer_seq, e.inserted_at
  from starcite.read(read_text.session_id, read_text.after_seq, read_text.max_events, read_text.tenant_id) e
$$;
