-- A new incarnation of a path joins the subscriptions that follow it: links to the path (explicit ones, which may
-- predate the stream) move to its offsets, and each subscription whose pattern matches gets a glob link. The
-- cursor starts at acked_seq (what the stream inherited from a fork), so whatever is appended next is pending.
create function starcite.ds_link_created(s starcite.ds_streams, acked_seq bigint) returns void
language sql volatile as $$
  update starcite.ds_subscription_links l set acked_epoch = s.offset_epoch, acked_seq = ds_link_created.acked_seq
  where l.tenant_id = s.tenant_id and l.path = s.path;
  insert into starcite.ds_subscription_links (tenant_id, subscription_id, path, glob, acked_epoch, acked_seq)
  select s.tenant_id, x.id, s.path, true, s.offset_epoch, ds_link_created.acked_seq
  from starcite.ds_subscriptions x
  where x.tenant_id = s.tenant_id and x.pattern_regex is not null and '/' || s.path ~ x.pattern_regex
  on conflict (tenant_id, subscription_id, path) do update set glob = true;
$$;
