-- Does what is due for one subscription: a lease that ran out is cleared (and the subscription woken again if work
-- is pending); a webhook retry that is due is returned for redelivery (same wake, next attempt), marked in flight
-- for 30 s so that other processes do not send it too; an idle subscription with pending work is woken.
create function starcite.ds_tick(id text, tenant_id text) returns setof starcite.ds_wake
language plpgsql volatile as $$
declare
  _s starcite.ds_subscriptions;
  _w starcite.ds_wake;
begin
  select x.* into _s from starcite.ds_subscriptions x where x.tenant_id = ds_tick.tenant_id and x.id = ds_tick.id
  for update skip locked;
  if _s.id is null then
    return;
  end if;
  if _s.next_attempt_at <= now() and _s.wake_state = 'claimed' and _s.holder = 'webhook'
     and (_s.lease_until is null or _s.lease_until > now()) then
    update starcite.ds_subscriptions x set next_attempt_at = now() + interval '30 seconds'
    where x.tenant_id = _s.tenant_id and x.id = _s.id;
    return next row(_s.tenant_id, _s.id, _s.type, _s.webhook_url, _s.base_url, _s.generation, _s.wake_id, _s.lease_ttl_ms,
                    _s.holder, _s.attempts + 1, _s.wake_snapshot)::starcite.ds_wake;
    return;
  end if;
  if _s.lease_until <= now() then
    update starcite.ds_subscriptions x
    set wake_state = 'idle', wake_id = null, holder = null, lease_until = null, wake_snapshot = null
    where x.tenant_id = _s.tenant_id and x.id = _s.id
    returning x.* into _s;
  end if;
  if _s.wake_state = 'idle' then
    _w := starcite.ds_issue_wake(_s);
    if _w.wake_id is not null then
      return next _w;
    end if;
  end if;
end
$$;
