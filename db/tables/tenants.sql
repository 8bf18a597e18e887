-- Tenants own sessions and API keys. Row Level Security: a role that does not own the table (an application
-- role you grant access to) sees and writes only the row of the tenant in its starcite.tenant_id setting.
create table starcite.tenants (
  id         text primary key check (starcite.valid_tenant_id(id)),
  name       text,
  created_at timestamptz not null default now()
);

insert into starcite.tenants (id, name) values ('default', 'Default tenant');

alter table starcite.tenants enable row level security;

create policy tenants_tenant_isolation on starcite.tenants
  using (id = starcite.current_tenant())
  with check (id = starcite.current_tenant());

comment on table starcite.tenants is 'Tenants; every session and API key belongs to one.';
