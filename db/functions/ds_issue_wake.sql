-- Issues a wake for an idle subscription with pending work (the caller holds its row lock): the next generation and
-- a new wake_id, with the pending streams as its snapshot. A webhook subscription is leased to its webhook from
-- now on (the process that issued it sends the request); a pull-wake subscription writes one wake event per
-- pending stream to its wake stream, in this transaction, and waits for a worker to claim it. Null when nothing
-- is pending.
create function starcite.ds_issue_wake(s starcite.ds_subscriptions) returns starcite.ds_wake
language plpgsql volatile as $$
declare
  _streams jsonb;
  _wake_id text := 'w_' || starcite.random_token(1);
begin
  select jsonb_agg(to_jsonb(t)) into _streams from starcite.ds_link_tails(s.tenant_id, s.id) t where t.has_pending;
  if _streams is null then
    return null;
  end if;
  update starcite.ds_subscriptions x
  set generation = x.generation + 1, wake_id = _wake_id, wake_snapshot = _streams,
      wake_state = case when x.type = 'webhook' then 'claimed' else 'woken' end,
      holder = case when x.type = 'webhook' then 'webhook' end,
      lease_until = case when x.type = 'webhook' then now() + make_interval(secs => x.lease_ttl_ms / 1000.0) end,
      attempts = 0, next_attempt_at = null
  where x.tenant_id = s.tenant_id and x.id = s.id
  returning x.* into s;
  if s.type = 'pull-wake' then
    begin
      perform starcite.ds_append(path => s.wake_stream, content_type => 'application/json',
        messages => (select jsonb_agg(jsonb_build_object('type', 'wake', 'subscription_id', s.id, 'stream', w->>'path',
                                                         'generation', s.generation,
                                                         'ts', floor(extract(epoch from clock_timestamp()) * 1000)))
                     from jsonb_array_elements(_streams) w),
        tenant_id => s.tenant_id);
    exception when others then
      -- A missing or closed wake stream loses the event, not the wake: workers can still claim it.
      raise warning 'starcite: could not write a wake event to stream % (%)', s.wake_stream, sqlerrm;
    end;
  end if;
  return row(s.tenant_id, s.id, s.type, s.webhook_url, s.base_url, s.generation, s.wake_id, s.lease_ttl_ms, s.holder, 1,
             _streams)::starcite.ds_wake;
end
$$;
