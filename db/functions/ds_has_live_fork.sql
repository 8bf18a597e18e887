-- Whether a fork of the stream, at any depth, is live (neither deleted nor expired). A deleted or expired stream
-- with a live fork answers 410 Gone and blocks its path; without one it is gone for good (404), which is how a
-- deletion cascades up a fork chain without anything being written.
create function starcite.ds_has_live_fork(id bigint) returns boolean
language sql stable as $$
  with recursive forks as (
    select f.id, f.deleted_at, f.ttl_seconds, f.expires_at, f.last_access_at
    from starcite.ds_streams f where f.forked_from = ds_has_live_fork.id
    union all
    select f.id, f.deleted_at, f.ttl_seconds, f.expires_at, f.last_access_at
    from starcite.ds_streams f join forks on f.forked_from = forks.id)
  select exists (select 1 from forks
                 where forks.deleted_at is null and not starcite.ds_expired(forks.ttl_seconds, forks.expires_at, forks.last_access_at))
$$;
