-- A webhook callback or a pull-wake ack for the current wake: applies the acks; with done, releases the lease and
-- says whether work is pending (next_wake), waking the subscription again if so (the returned wake); without,
-- extends the lease (a heartbeat). subscription_fenced for any wake but the current one.
create function starcite.ds_ack(id text, wake_id text, generation bigint, acks jsonb, done boolean, tenant_id text)
returns table (next_wake boolean, wake starcite.ds_wake)
language plpgsql volatile as $$
declare
  _s starcite.ds_subscriptions;
  _w starcite.ds_wake;
begin
  _s := starcite.ds_fenced_subscription(ds_ack.id, ds_ack.wake_id, ds_ack.generation, ds_ack.tenant_id);
  perform starcite.ds_apply_acks(_s, ds_ack.acks);
  if ds_ack.done then
    _w := starcite.ds_release_lease(_s);
    return query select _w.wake_id is not null, _w;
    return;
  end if;
  update starcite.ds_subscriptions x set lease_until = now() + make_interval(secs => x.lease_ttl_ms / 1000.0)
  where x.tenant_id = _s.tenant_id and x.id = _s.id;
  return query select false, null::starcite.ds_wake;
end
$$;
