-- A subscription's links with their streams' tails: pending when the stream (live, of the offset epoch the cursor
-- is in, or any epoch when the cursor predates the stream) has messages past the acknowledged seq.
create function starcite.ds_link_tails(tenant_id text, subscription_id text)
returns table (path text, link_type text, acked_epoch bigint, acked_seq bigint, tail_epoch bigint, tail_seq bigint,
               has_pending boolean)
language sql stable as $$
  select l.path, case when l.explicit then 'explicit' else 'glob' end, l.acked_epoch, l.acked_seq, t.offset_epoch, t.tail_seq,
         coalesce(t.tail_seq > case when l.acked_epoch = t.offset_epoch then l.acked_seq else 0 end, false)
  from starcite.ds_subscription_links l
  left join lateral starcite.ds_stream_tail(l.tenant_id, l.path) t on true
  where l.tenant_id = ds_link_tails.tenant_id and l.subscription_id = ds_link_tails.subscription_id
  order by l.path
$$;
