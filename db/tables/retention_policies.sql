-- How long events are kept: a tenant's policy (session_id null) applies to each of its sessions that has no
-- policy of its own. An event is expired when it is older than max_age or more than max_events behind the
-- session's newest; expired events are deleted in small batches (trim_session), after being archived first
-- when archive is set.
create table starcite.retention_policies (
  tenant_id  text not null references starcite.tenants (id) on delete cascade,
  session_id text references starcite.sessions (id) on delete cascade,
  max_age    interval check (max_age > interval '0'),
  max_events bigint check (max_events >= 1),
  archive    boolean not null default false,
  updated_at timestamptz not null default clock_timestamp(),
  check (max_age is not null or max_events is not null)
);

create unique index retention_policies_tenant_idx on starcite.retention_policies (tenant_id) where session_id is null;
create unique index retention_policies_session_idx on starcite.retention_policies (session_id) where session_id is not null;

alter table starcite.retention_policies enable row level security;

create policy retention_policies_tenant_isolation on starcite.retention_policies
  using (tenant_id = starcite.current_tenant())
  with check (tenant_id = starcite.current_tenant());

comment on table starcite.retention_policies is 'Retention by age and/or count, per tenant (session_id null) or per session.';
