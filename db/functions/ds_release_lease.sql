-- Ends the current wake of a subscription (the caller holds its row lock): idle again, and woken at once (the
-- returned wake) when work is still pending, with a new generation and wake_id.
create function starcite.ds_release_lease(s starcite.ds_subscriptions) returns starcite.ds_wake
language plpgsql volatile as $$
begin
  update starcite.ds_subscriptions x
  set wake_state = 'idle', wake_id = null, holder = null, lease_until = null, wake_snapshot = null, attempts = 0,
      next_attempt_at = null
  where x.tenant_id = s.tenant_id and x.id = s.id
  returning x.* into s;
  return starcite.ds_issue_wake(s);
end
$$;
