-- migrate:up

-- A second wall behind the tenant checks in the functions: for any role that does not own these tables
-- (an application role you grant access to), rows of other tenants are invisible and unwritable, even
-- through hand-written SQL. The owner (the role that ran the migrations, which the server uses) is not
-- subject to RLS, so the functions' explicit tenant_id argument keeps working for it.
-- Such a role acts for the tenant in the setting starcite.tenant_id (default: 'default').

alter table starcite.sessions enable row level security;
alter table starcite.events enable row level security;
alter table starcite.api_keys enable row level security;

create policy sessions_tenant_isolation on starcite.sessions
  using (tenant_id = starcite.current_tenant())
  with check (tenant_id = starcite.current_tenant());

create policy events_tenant_isolation on starcite.events
  using (exists (select 1 from starcite.sessions s
                 where s.id = events.session_id and s.tenant_id = starcite.current_tenant()));

create policy api_keys_tenant_isolation on starcite.api_keys
  using (tenant_id = starcite.current_tenant())
  with check (tenant_id = starcite.current_tenant());

-- migrate:down

drop policy api_keys_tenant_isolation on starcite.api_keys;
drop policy events_tenant_isolation on starcite.events;
drop policy sessions_tenant_isolation on starcite.sessions;
alter table starcite.api_keys disable row level security;
alter table starcite.events disable row level security;
alter table starcite.sessions disable row level security;
