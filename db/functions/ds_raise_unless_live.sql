-- Raises unless the stream row (a path's current incarnation, found for the caller's tenant) is live: no row or
-- another tenant's is session_not_found (404), a deleted or expired stream that forks still use is stream_gone
-- (410), and one nobody uses any more is session_not_found.
create function starcite.ds_raise_unless_live(s starcite.ds_streams, path text, tenant_id text) returns void
language plpgsql stable as $$
begin
  if s.id is null or s.tenant_id <> ds_raise_unless_live.tenant_id then
    perform starcite.raise_error('session_not_found', format('stream %s does not exist', ds_raise_unless_live.path),
      jsonb_build_object('path', ds_raise_unless_live.path));
  elsif s.deleted_at is not null or starcite.ds_expired(s.ttl_seconds, s.expires_at, s.last_access_at) then
    if starcite.ds_has_live_fork(s.id) then
      perform starcite.raise_error('stream_gone',
        format('stream %s was deleted or expired; its forks still use it', ds_raise_unless_live.path),
        jsonb_build_object('path', ds_raise_unless_live.path));
    end if;
    perform starcite.raise_error('session_not_found', format('stream %s does not exist', ds_raise_unless_live.path),
      jsonb_build_object('path', ds_raise_unless_live.path));
  end if;
end
$$;
