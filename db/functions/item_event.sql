-- The event row an append_items item would append (seq and inserted_at not yet set).
create function starcite.item_event(item starcite.append_item) returns starcite.events
language sql immutable parallel safe as $$
  select row(item.session_id, null, item.type, item.payload, item.actor, item.source, item.metadata, item.refs,
             item.idempotency_key, item.producer_id, item.producer_seq, null, null)::starcite.events
$$;
