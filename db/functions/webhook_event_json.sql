-- An event as webhook bodies (and REST) carry it: snake_case fields, inserted_at in UTC with microseconds.
create function starcite.webhook_event_json(e starcite.events) returns jsonb
language sql immutable as $$
  select jsonb_build_object('session_id', e.session_id, 'seq', e.seq, 'type', e.type, 'payload', e.payload,
                            'actor', e.actor, 'source', e.source, 'metadata', e.metadata, 'refs', e.refs,
                            'idempotency_key', e.idempotency_key, 'producer_id', e.producer_id,
                            'producer_seq', e.producer_seq,
                            'inserted_at', to_char(e.inserted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
$$;
