-- producer_seq_conflict for an item whose producer is at producer_seq last_producer_seq.
create function starcite.producer_seq_error(item starcite.append_item, last_producer_seq bigint)
returns starcite.append_error
language sql stable parallel safe as $$
  select row('producer_seq_conflict',
             format('producer %s is at producer_seq %s; expected %s, got %s',
                    item.producer_id, last_producer_seq, last_producer_seq + 1, item.producer_seq),
             jsonb_build_object('producer_id', item.producer_id, 'expected_producer_seq', last_producer_seq + 1,
                                'producer_seq', item.producer_seq, 'last_producer_seq', last_producer_seq))::starcite.append_error
$$;
