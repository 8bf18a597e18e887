-- The one validator of an event's own fields, used by starcite.append's direct path and by the engine
-- (append_items, through decode_items) alike, so that one event gets one answer whichever path it takes.
-- Null when the event is fine, else the name of its first problem in field order, which event_error turns
-- into the error. It returns a name rather than the error so that the expression Postgres inlines into every
-- caller stays small: an append pays for building an error message only when there is one.
create function starcite.check_event(type text, payload jsonb, actor text, source text, metadata jsonb, refs jsonb,
                                     idempotency_key text, producer_id text, producer_seq bigint,
                                     expected_seq bigint)
returns text
language sql immutable parallel safe as $$
  select case
    when coalesce(check_event.type, '') = '' then 'type'
    when char_length(check_event.type) > starcite.limit_value('event_type_chars') then 'type_length'
    when jsonb_typeof(check_event.payload) is distinct from 'object' then 'payload'
    when octet_length(check_event.payload::text) > starcite.limit_value('event_payload_bytes') then 'payload_size'
    when coalesce(jsonb_typeof(check_event.metadata), 'null') not in ('object', 'null') then 'metadata'
    when octet_length(check_event.metadata::text) > starcite.limit_value('event_metadata_bytes') then 'metadata_size'
    when coalesce(jsonb_typeof(check_event.refs), 'null') not in ('object', 'array', 'null') then 'refs'
    when octet_length(check_event.refs::text) > starcite.limit_value('event_refs_bytes') then 'refs_size'
    when char_length(check_event.actor) > starcite.limit_value('event_actor_chars') then 'actor'
    when char_length(check_event.source) > starcite.limit_value('event_source_chars') then 'source'
    when check_event.idempotency_key = ''
         or char_length(check_event.idempotency_key) > starcite.limit_value('idempotency_key_chars') then 'idempotency_key'
    when check_event.producer_id = ''
         or char_length(check_event.producer_id) > starcite.limit_value('producer_id_chars') then 'producer_id'
    when check_event.producer_seq < 1 then 'producer_seq'
    when check_event.producer_seq is null and check_event.producer_id is not null then 'producer_seq_missing'
    when check_event.producer_id is null and check_event.producer_seq is not null then 'producer_id_missing'
    when check_event.expected_seq < 0 then 'expected_seq'
  end
$$;
