-- The one validator of an event's own fields, used by starcite.append's direct path and by the engine
-- (append_items) alike, so that one event gets one answer whichever path it takes. Null when the event is
-- fine, else its first problem in field order. An inlinable SQL function: the limits fold into constants.
create function starcite.check_event(type text, payload jsonb, actor text, source text, metadata jsonb, refs jsonb,
                                     idempotency_key text, producer_id text, producer_seq bigint,
                                     expected_seq bigint)
returns starcite.append_error
language sql stable parallel safe as $$
  select case
    when coalesce(check_event.type, '') = '' then starcite.event_field_error('type')
    when char_length(check_event.type) > starcite.limit_value('event_type_chars') then
      row('invalid_event', format('type is longer than %s characters', starcite.limit_value('event_type_chars')),
          '{"field":"type"}')::starcite.append_error
    when jsonb_typeof(check_event.payload) is distinct from 'object' then starcite.event_field_error('payload')
    when octet_length(check_event.payload::text) > starcite.limit_value('event_payload_bytes') then
      row('payload_too_large',
          format('payload is %s bytes, the limit is %s', octet_length(check_event.payload::text),
                 starcite.limit_value('event_payload_bytes')),
          jsonb_build_object('field', 'payload', 'limit', starcite.limit_value('event_payload_bytes'),
                             'size', octet_length(check_event.payload::text)))::starcite.append_error
    when coalesce(jsonb_typeof(check_event.metadata), 'null') not in ('object', 'null') then
      starcite.event_field_error('metadata')
    when octet_length(check_event.metadata::text) > starcite.limit_value('event_metadata_bytes') then
      starcite.too_large_error('metadata', 'event_metadata_bytes')
    when coalesce(jsonb_typeof(check_event.refs), 'null') not in ('object', 'array', 'null') then
      starcite.event_field_error('refs')
    when octet_length(check_event.refs::text) > starcite.limit_value('event_refs_bytes') then
      starcite.too_large_error('refs', 'event_refs_bytes')
    when char_length(check_event.actor) > starcite.limit_value('event_actor_chars') then
      starcite.event_field_error('actor')
    when char_length(check_event.source) > starcite.limit_value('event_source_chars') then
      starcite.event_field_error('source')
    when check_event.idempotency_key = ''
         or char_length(check_event.idempotency_key) > starcite.limit_value('idempotency_key_chars') then
      starcite.event_field_error('idempotency_key')
    when check_event.producer_id = ''
         or char_length(check_event.producer_id) > starcite.limit_value('producer_id_chars') then
      starcite.event_field_error('producer_id')
    when check_event.producer_seq < 1 then starcite.event_field_error('producer_seq')
    when (check_event.producer_id is null) <> (check_event.producer_seq is null) then
      row('invalid_event', 'producer_id and producer_seq must be given together',
          jsonb_build_object('field', case when check_event.producer_id is null then 'producer_id'
                                           else 'producer_seq' end))::starcite.append_error
    when check_event.expected_seq < 0 then starcite.event_field_error('expected_seq')
  end
$$;
