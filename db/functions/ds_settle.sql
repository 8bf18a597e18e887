-- Turns an expired stream into a deleted one: marks the row and deletes its session (its events and producers
-- with it). Forks keep copies of what they inherited, so nothing else needs the data. The caller holds the
-- row's lock; the row is returned as it now is.
create function starcite.ds_settle(s starcite.ds_streams) returns starcite.ds_streams
language plpgsql volatile as $$
begin
  if s.deleted_at is null and starcite.ds_expired(s.ttl_seconds, s.expires_at, s.last_access_at) then
    update starcite.ds_streams d set deleted_at = now() where d.id = s.id returning d.* into s;
    delete from starcite.sessions x where x.id = s.session_id;
  end if;
  return s;
end
$$;
