-- Deletes a session with its events (its archived objects stay in the archive store); returns the deleted row.
-- The lifecycle feed records it as 'deleted'.
create function starcite.delete_session(id text, tenant_id text default null)
returns starcite.sessions
language plpgsql volatile as $$
declare
  _row starcite.sessions;
begin
  delete from starcite.sessions s
  where s.id = delete_session.id and s.tenant_id = starcite.resolve_tenant(delete_session.tenant_id)
  returning s.* into _row;
  if _row.id is null then
    perform starcite.raise_error('session_not_found', format('session %s does not exist', delete_session.id),
      jsonb_build_object('session_id', delete_session.id));
  end if;
  return _row;
end
$$;
