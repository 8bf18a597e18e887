-- A pull-wake worker claims the subscription's current wake (or, when it is idle with pending work, a new one):
-- it holds the lease for lease_ttl_ms, extended by acks. subscription_claimed while another worker's lease runs;
-- subscription_no_work when nothing is pending.
create function starcite.ds_claim(id text, worker text, tenant_id text default null) returns starcite.ds_wake
language plpgsql volatile as $$
declare
  _tenant text := starcite.resolve_tenant(ds_claim.tenant_id);
  _s      starcite.ds_subscriptions;
  _w      starcite.ds_wake;
begin
  if coalesce(ds_claim.worker, '') = '' or char_length(ds_claim.worker) > 256 then
    perform starcite.raise_error('invalid_argument', 'worker is 1-256 characters', '{"field":"worker"}');
  end if;
  select x.* into _s from starcite.ds_subscriptions x where x.tenant_id = _tenant and x.id = ds_claim.id for update;
  if _s.id is null then
    perform starcite.raise_error('subscription_not_found', format('subscription %s does not exist', ds_claim.id),
      jsonb_build_object('id', ds_claim.id));
  end if;
  if _s.type <> 'pull-wake' then
    perform starcite.raise_error('invalid_argument', 'only pull-wake subscriptions are claimed', '{"field":"type"}');
  end if;
  if _s.wake_state = 'claimed' and _s.lease_until > now() then
    perform starcite.raise_error('subscription_claimed', format('worker %s holds the lease', _s.holder),
      jsonb_build_object('current_holder', _s.holder, 'generation', _s.generation));
  end if;
  if _s.wake_state = 'claimed' then
    -- Its lease ran out: the wake is over.
    update starcite.ds_subscriptions x set wake_state = 'idle', wake_id = null, holder = null, lease_until = null
    where x.tenant_id = _s.tenant_id and x.id = _s.id returning x.* into _s;
  end if;
  if _s.wake_state = 'idle' then
    _w := starcite.ds_issue_wake(_s);
    if _w.wake_id is null then
      perform starcite.raise_error('subscription_no_work', 'nothing is pending', jsonb_build_object('id', _s.id));
    end if;
    select x.* into _s from starcite.ds_subscriptions x where x.tenant_id = _tenant and x.id = ds_claim.id;
  end if;
  update starcite.ds_subscriptions x
  set wake_state = 'claimed', holder = ds_claim.worker, lease_until = now() + make_interval(secs => x.lease_ttl_ms / 1000.0)
  where x.tenant_id = _s.tenant_id and x.id = _s.id
  returning x.* into _s;
  return row(_s.tenant_id, _s.id, _s.type, _s.webhook_url, _s.base_url, _s.generation, _s.wake_id, _s.lease_ttl_ms, _s.holder,
             1, _s.wake_snapshot)::starcite.ds_wake;
end
$$;
