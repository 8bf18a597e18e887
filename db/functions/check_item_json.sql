-- The JSON types of one append_items item, checked before its fields are read as SQL values and handed to
-- starcite.check_event. Null when every field has a usable type, else the name of the first problem (for
-- event_error). producer_seq and expected_seq may be JSON numbers or strings of digits; their ranges are
-- check_event's business.
create function starcite.check_item_json(item jsonb) returns text
language sql immutable parallel safe as $$
  select case
    when jsonb_typeof(check_item_json.item) is distinct from 'object' then 'item'
    when jsonb_typeof(check_item_json.item->'session_id') is distinct from 'string' then 'session_id'
    when coalesce(jsonb_typeof(check_item_json.item->'type'), 'null') not in ('string', 'null') then 'type'
    when coalesce(jsonb_typeof(check_item_json.item->'actor'), 'null') not in ('string', 'null') then 'actor'
    when coalesce(jsonb_typeof(check_item_json.item->'source'), 'null') not in ('string', 'null') then 'source'
    when coalesce(jsonb_typeof(check_item_json.item->'idempotency_key'), 'null') not in ('string', 'null') then 'idempotency_key'
    when coalesce(jsonb_typeof(check_item_json.item->'producer_id'), 'null') not in ('string', 'null') then 'producer_id'
    when jsonb_typeof(check_item_json.item->'producer_seq') <> 'null'
         and starcite.json_bigint(check_item_json.item->'producer_seq') is null then 'producer_seq'
    when jsonb_typeof(check_item_json.item->'expected_seq') <> 'null'
         and starcite.json_bigint(check_item_json.item->'expected_seq') is null then 'expected_seq'
  end
$$;
