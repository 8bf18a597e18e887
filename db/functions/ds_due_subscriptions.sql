-- Subscriptions with something due: a lease that ran out, a webhook retry whose time has come, or (a safety net
-- for a wake lost to a crash) idle with pending work. A server process calls ds_tick for each.
create function starcite.ds_due_subscriptions(max_subscriptions integer default 100)
returns table (tenant_id text, subscription_id text)
language sql stable as $$
  select x.tenant_id, x.id from starcite.ds_subscriptions x
  where x.lease_until <= now() or x.next_attempt_at <= now()
     or (x.wake_state = 'idle' and exists (select 1 from starcite.ds_link_tails(x.tenant_id, x.id) t where t.has_pending))
  limit ds_due_subscriptions.max_subscriptions
$$;
