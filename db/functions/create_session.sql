-- Creates a session (id generated as ses_... when null). Session ids are global: a taken id is
-- session_exists whichever tenant holds it. The sessions_check trigger checks id, title and metadata.
create function starcite.create_session(id text default null, title text default null, metadata jsonb default null,
                                        tenant_id text default null)
returns starcite.sessions
language plpgsql volatile as $$
declare
  _id text := coalesce(create_session.id, starcite.generate_session_id());
  _tenant text := starcite.resolve_tenant(create_session.tenant_id);
  _row starcite.sessions;
begin
  if not exists (select 1 from starcite.tenants t where t.id = _tenant) then
    perform starcite.raise_error('invalid_argument', format('tenant %s does not exist', _tenant),
      jsonb_build_object('field', 'tenant_id'));
  end if;

  insert into starcite.sessions (id, tenant_id, title, metadata)
  values (_id, _tenant, create_session.title, coalesce(create_session.metadata, '{}'))
  on conflict on constraint sessions_pkey do nothing
  returning * into _row;

  if _row.id is null then
    perform starcite.raise_error('session_exists', format('session %s already exists', _id),
      jsonb_build_object('session_id', _id));
  end if;
  return _row;
end
$$;
