-- The idle subscriptions that follow any of these sessions' streams: the ones an append to them may wake.
create function starcite.ds_wake_candidates(session_ids text[])
returns table (tenant_id text, subscription_id text)
language sql stable as $$
  select distinct l.tenant_id, l.subscription_id
  from starcite.ds_streams d
  join starcite.ds_subscription_links l on l.tenant_id = d.tenant_id and l.path = d.path
  join starcite.ds_subscriptions x on x.tenant_id = l.tenant_id and x.id = l.subscription_id
  where d.session_id = any(ds_wake_candidates.session_ids) and x.wake_state = 'idle'
$$;
