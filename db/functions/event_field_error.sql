-- invalid_event for one field of an event, with the message that says what the field must be. Shared by
-- check_event (values) and check_item_json (JSON types), so that both say the same thing.
create function starcite.event_field_error(field text) returns starcite.append_error
language sql stable parallel safe as $$
  select row('invalid_event',
             case event_field_error.field
               when 'session_id' then 'session_id is required'
               when 'type' then 'type must be a non-empty string'
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
               when 'expected_seq' then 'expected_seq must be an integer >= 0'
             end,
             jsonb_build_object('field', event_field_error.field))::starcite.append_error
$$;
