-- Whether two events carry the same content: what makes a repeated append a retry rather than a conflict.
create function starcite.same_event_content(a starcite.events, b starcite.events) returns boolean
language sql immutable parallel safe as $$
  select a.type = b.type
     and a.payload = b.payload
     and a.actor is not distinct from b.actor
     and a.source is not distinct from b.source
     and a.metadata is not distinct from b.metadata
     and a.refs is not distinct from b.refs
     and a.idempotency_key is not distinct from b.idempotency_key
     and a.producer_id is not distinct from b.producer_id
     and a.producer_seq is not distinct from b.producer_seq
$$;
