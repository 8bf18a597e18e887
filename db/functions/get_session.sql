-- The session, or a row of nulls when the tenant has no such session.
create function starcite.get_session(id text, tenant_id text default null) returns starcite.sessions
language sql stable as $$
  select s.* from starcite.sessions s
  where s.id = get_session.id and s.tenant_id = starcite.resolve_tenant(get_session.tenant_id)
$$;
