-- append_items' input as starcite.append_item rows, in input order: each item's JSON types checked
-- (check_item_json), then its values (check_event). tenant_id defaults to the given tenant. A set-returning SQL
-- function, so that the query calling it plans it inline.
create function starcite.decode_items(items jsonb, tenant_id text) returns setof starcite.append_item
language sql stable parallel safe as $$
  select d.idx, d.session_id, d.tenant_id, d.type, d.payload, d.actor, d.source, d.metadata, d.refs,
         d.idempotency_key, d.producer_id, d.producer_seq, d.expected_seq,
         coalesce(starcite.check_item_json(d.item),
                  starcite.check_event(d.type, d.payload, d.actor, d.source, d.metadata, d.refs, d.idempotency_key,
                                       d.producer_id, d.producer_seq, d.expected_seq)) as problem
  from (select x.idx::integer, x.item,
               x.item->>'session_id' as session_id,
               coalesce(x.item->>'tenant_id', decode_items.tenant_id) as tenant_id,
               coalesce(x.item->>'type', 'content') as type,
               x.item->'payload' as payload,
               x.item->>'actor' as actor,
               x.item->>'source' as source,
               nullif(x.item->'metadata', 'null') as metadata,
               nullif(x.item->'refs', 'null') as refs,
               x.item->>'idempotency_key' as idempotency_key,
               x.item->>'producer_id' as producer_id,
               starcite.json_bigint(x.item->'producer_seq') as producer_seq,
               starcite.json_bigint(x.item->'expected_seq') as expected_seq
        from jsonb_array_elements(decode_items.items) with ordinality as x(item, idx)) d
  order by d.idx
$$;
