-- Records the answer to one attempt of a delivery. Success (the endpoint answered 2xx) marks it succeeded and
-- moves the stream's durable cursor past it; failure schedules the next attempt after webhook_backoff. Attempts
-- never run out: a delivery is retried until it succeeds or the endpoint is disabled or deleted. Returns the
-- delivery (no row when it was no longer pending: recorded by another attempt already).
create function starcite.webhook_delivery_result(delivery_id text, ok boolean, status integer default null,
                                                 error text default null, base_ms integer default 1000,
                                                 max_ms integer default 3600000)
returns setof starcite.webhook_deliveries
language plpgsql volatile as $$
declare
  _d starcite.webhook_deliveries;
begin
  update starcite.webhook_deliveries d set
    attempts = d.attempts + 1,
    last_attempt_at = clock_timestamp(),
    last_status = webhook_delivery_result.status,
    last_error = left(webhook_delivery_result.error, 1000),
    status = case when webhook_delivery_result.ok then 'succeeded' else 'pending' end,
    delivered_at = case when webhook_delivery_result.ok then clock_timestamp() end,
    next_attempt_at = case when webhook_delivery_result.ok then d.next_attempt_at
                           else clock_timestamp() + starcite.webhook_backoff(d.attempts + 1, webhook_delivery_result.base_ms,
                                                                             webhook_delivery_result.max_ms) end
  where d.id = webhook_delivery_result.delivery_id and d.status = 'pending'
  returning d.* into _d;
  if _d.id is null then
    return;
  end if;
  if webhook_delivery_result.ok then
    if _d.session_id is null then
      update starcite.webhook_endpoints w set changes_delivered = greatest(w.changes_delivered, _d.to_seq)
      where w.id = _d.endpoint_id;
    else
      insert into starcite.webhook_cursors as c (endpoint_id, session_id, delivered_seq)
      values (_d.endpoint_id, _d.session_id, _d.to_seq)
      on conflict on constraint webhook_cursors_pkey do update
        set delivered_seq = greatest(c.delivered_seq, excluded.delivered_seq), updated_at = clock_timestamp();
    end if;
  end if;
  return next _d;
end
$$;
