-- What a webhook request of the current wake came back with. Delivered: the retry count resets, and a
-- {"done": true} answer acks the wake's snapshot (each stream up to the tail it reported) and releases the lease,
-- waking the subscription again if more arrived meanwhile (the returned wake). Failed: the next attempt is due
-- after 1, 2, 4 ... up to 60 s (+-20% jitter), persisted, with the lease kept past it. A result for a wake that is
-- no longer current changes nothing.
create function starcite.ds_webhook_result(id text, wake_id text, generation bigint, delivered boolean, done boolean,
                                           tenant_id text)
returns setof starcite.ds_wake
language plpgsql volatile as $$
declare
  _s     starcite.ds_subscriptions;
  _w     starcite.ds_wake;
  _delay double precision;
begin
  select x.* into _s from starcite.ds_subscriptions x
  where x.tenant_id = ds_webhook_result.tenant_id and x.id = ds_webhook_result.id
    and x.wake_id = ds_webhook_result.wake_id and x.generation = ds_webhook_result.generation and x.wake_state = 'claimed'
  for update;
  if _s.id is null then
    return;
  end if;
  if not ds_webhook_result.delivered then
    _delay := least(60, 2 ^ _s.attempts) * (0.8 + random() * 0.4);
    update starcite.ds_subscriptions x
    set attempts = x.attempts + 1, next_attempt_at = now() + make_interval(secs => _delay),
        lease_until = greatest(x.lease_until, now() + make_interval(secs => _delay + x.lease_ttl_ms / 1000.0))
    where x.tenant_id = _s.tenant_id and x.id = _s.id;
    return;
  end if;
  if not ds_webhook_result.done then
    update starcite.ds_subscriptions x set attempts = 0, next_attempt_at = null
    where x.tenant_id = _s.tenant_id and x.id = _s.id;
    return;
  end if;
  perform starcite.ds_apply_acks(_s, (select coalesce(jsonb_agg(jsonb_build_object('path', w->>'path', 'epoch', w->'tail_epoch',
                                                                                    'seq', w->'tail_seq')), '[]')
                                      from jsonb_array_elements(_s.wake_snapshot) w));
  _w := starcite.ds_release_lease(_s);
  if _w.wake_id is not null then
    return next _w;
  end if;
end
$$;
