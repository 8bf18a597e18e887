-- The error for a problem check_event or check_item_json found, with the message that says what the field must
-- be and a detail naming it. payload is the event's, for the size it reports.
create function starcite.event_error(problem text, payload jsonb) returns starcite.append_error
language sql stable parallel safe as $$
  select case event_error.problem
    when 'payload_size' then
      row('payload_too_large',
          format('payload is %s bytes, the limit is %s', octet_length(event_error.payload::text),
                 starcite.limit_value('event_payload_bytes')),
          jsonb_build_object('field', 'payload', 'limit', starcite.limit_value('event_payload_bytes'),
                             'size', octet_length(event_error.payload::text)))::starcite.append_error
    when 'metadata_size' then
      row('payload_too_large', format('metadata is larger than %s bytes', starcite.limit_value('event_metadata_bytes')),
          jsonb_build_object('field', 'metadata', 'limit', starcite.limit_value('event_metadata_bytes')))::starcite.append_error
    when 'refs_size' then
      row('payload_too_large', format('refs is larger than %s bytes', starcite.limit_value('event_refs_bytes')),
          jsonb_build_object('field', 'refs', 'limit', starcite.limit_value('event_refs_bytes')))::starcite.append_error
    else
      row('invalid_event',
          case event_error.problem
            when 'item' then 'each event must be a JSON object'
            when 'session_id' then 'session_id is required'
            when 'type' then 'type must be a non-empty string'
            when 'type_length' then format('type is longer than %s characters', starcite.limit_value('event_type_chars'))
            when 'payload' then 'payload must be a JSON object'
            when 'metadata' then 'metadata must be a JSON object'
            when 'refs' then 'refs must be a JSON object or array'
            when 'actor' then format('actor must be a string of at most %s characters',
                                     starcite.limit_value('event_actor_chars'))
            when 'source' then format('source must be a string of at most %s characters',
                                      starcite.limit_value('event_source_chars'))
            when 'idempotency_key' then format('idempotency_key must be a non-empty string of at most %s characters',
                                               starcite.limit_value('idempotency_key_chars'))
            when 'producer_id' then format('producer_id must be a non-empty string of at most %s characters',
                                           starcite.limit_value('producer_id_chars'))
            when 'producer_seq' then 'producer_seq must be an integer >= 1'
            when 'producer_seq_missing' then 'producer_id and producer_seq must be given together'
            when 'producer_id_missing' then 'producer_id and producer_seq must be given together'
            when 'expected_seq' then 'expected_seq must be an integer >= 0'
          end,
          case event_error.problem
            when 'item' then '{}'::jsonb
            when 'type_length' then '{"field":"type"}'
            when 'producer_seq_missing' then '{"field":"producer_seq"}'
            when 'producer_id_missing' then '{"field":"producer_id"}'
            else jsonb_build_object('field', event_error.problem)
          end)::starcite.append_error
  end
$$;
