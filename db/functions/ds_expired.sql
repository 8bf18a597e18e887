-- Whether a Durable Stream's time is up: its Stream-Expires-At has passed, or it has been idle (no read or write
-- through the protocol) for its Stream-TTL.
create function starcite.ds_expired(ttl_seconds bigint, expires_at timestamptz, last_access_at timestamptz)
returns boolean
language sql stable parallel safe as $$
  select coalesce(ds_expired.expires_at <= now(), false)
      or coalesce(ds_expired.last_access_at + make_interval(secs => ds_expired.ttl_seconds) <= now(), false)
$$;
