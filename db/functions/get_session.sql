-- The session, or a row of nulls when the tenant has no such session.
-- PL/pgSQL rather than SQL: a SQL function returning one row cannot be inlined into its caller's query, so
-- Postgres would parse and plan its query on every call (~0.1 ms, more than the lookup itself); PL/pgSQL keeps
-- the plan for the connection. Every tail opens with this lookup.
create function starcite.get_session(id text, tenant_id text default null) returns starcite.sessions
language plpgsql stable as $$
declare
  _session starcite.sessions;
begin
  select s.* into _session from starcite.sessions s
  where s.id = get_session.id and s.tenant_id = starcite.resolve_tenant(get_session.tenant_id);
  return _session;
end
$$;
