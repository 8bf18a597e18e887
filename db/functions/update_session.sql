-- Null arguments leave a field unchanged. expected_version, when given, must equal the current version.
-- The sessions_check trigger checks title and metadata.
create function starcite.update_session(id text, title text default null, metadata jsonb default null,
                                        expected_version bigint default null, archived boolean default null,
                                        tenant_id text default null)
returns starcite.sessions
language plpgsql volatile as $$
declare
  _row starcite.sessions;
begin
  select s.* into _row from starcite.sessions s
  where s.id = update_session.id and s.tenant_id = starcite.resolve_tenant(update_session.tenant_id)
  for no key update;
  if _row.id is null then
    perform starcite.raise_error('session_not_found', format('session %s does not exist', update_session.id),
      jsonb_build_object('session_id', update_session.id));
  end if;
  if update_session.expected_version is not null and update_session.expected_version <> _row.version then
    perform starcite.raise_error('version_conflict',
      format('session %s is at version %s, expected %s', _row.id, _row.version, update_session.expected_version),
      jsonb_build_object('session_id', _row.id, 'version', _row.version,
                         'expected_version', update_session.expected_version));
  end if;

  update starcite.sessions s set
    title = coalesce(update_session.title, s.title),
    metadata = coalesce(update_session.metadata, s.metadata),
    archived = coalesce(update_session.archived, s.archived),
    version = s.version + 1,
    updated_at = clock_timestamp()
  where s.id = _row.id
  returning s.* into _row;
  return _row;
end
$$;
