-- The wait before retry number `attempts` + 1 of a failed delivery: base_ms doubling per attempt up to max_ms,
-- with +-20 % jitter so that endpoints failing together do not retry in lockstep.
create function starcite.webhook_backoff(attempts integer, base_ms integer default 1000, max_ms integer default 3600000)
returns interval
language sql volatile as $$
  select make_interval(secs => least(webhook_backoff.max_ms::float8,
                                     webhook_backoff.base_ms * power(2, least(greatest(webhook_backoff.attempts - 1, 0), 30)))
                               * (0.8 + random() * 0.4) / 1000)
$$;
