-- The JSON types of one append_items item, checked before its fields are read as SQL values and handed to
-- starcite.check_event. Null when every field has a usable type. producer_seq and expected_seq may be JSON
-- numbers or strings of digits; their ranges are check_event's business.
create function starcite.check_item_json(item jsonb) returns starcite.append_error
language sql stable parallel safe as $$
  select case
    when jsonb_typeof(check_item_json.item) is distinct from 'object' then
      row('invalid_event', 'each event must be a JSON object', '{}')::starcite.append_error
    when jsonb_typeof(check_item_json.item->'session_id') is distinct from 'string' then
      starcite.event_field_error('session_id')
    when coalesce(jsonb_typeof(check_item_json.item->'type'), 'null') not in ('string', 'null') then
      starcite.event_field_error('type')
    when coalesce(jsonb_typeof(check_item_json.item->'actor'), 'null') not in ('string', 'null') then
      starcite.event_field_error('actor')
    when coalesce(jsonb_typeof(check_item_json.item->'source'), 'null') not in ('string', 'null') then
      starcite.event_field_error('source')
    when coalesce(jsonb_typeof(check_item_json.item->'idempotency_key'), 'null') not in ('string', 'null') then
      starcite.event_field_error('idempotency_key')
    when coalesce(jsonb_typeof(check_item_json.item->'producer_id'), 'null') not in ('string', 'null') then
      starcite.event_field_error('producer_id')
    when jsonb_typeof(check_item_json.item->'producer_seq') <> 'null'
         and starcite.json_bigint(check_item_json.item->'producer_seq') is null then
      starcite.event_field_error('producer_seq')
    when jsonb_typeof(check_item_json.item->'expected_seq') <> 'null'
         and starcite.json_bigint(check_item_json.item->'expected_seq') is null then
      starcite.event_field_error('expected_seq')
  end
$$;
