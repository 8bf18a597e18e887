-- The lifecycle feed: one row per session created, updated, archived, unarchived or deleted, numbered per
-- tenant in commit order (change_counters). Written by the sessions_changes trigger, so raw SQL gets it too.
-- session_id has no foreign key: a deleted session's changes outlive it.
create table starcite.session_changes (
  tenant_id  text not null references starcite.tenants (id) on delete cascade,
  seq        bigint not null check (seq >= 1),
  session_id text not null,
  kind       text not null check (kind in ('created', 'updated', 'archived', 'unarchived', 'deleted')),
  -- The session's version and archived flag after the change (before it, for a delete).
  version    bigint not null,
  archived   boolean not null,
  changed_at timestamptz not null default clock_timestamp(),
  primary key (tenant_id, seq)
);

alter table starcite.session_changes enable row level security;

create policy session_changes_tenant_isolation on starcite.session_changes
  using (tenant_id = starcite.current_tenant())
  with check (tenant_id = starcite.current_tenant());

comment on table starcite.session_changes is 'Session lifecycle changes per tenant, seq gapless in commit order.';
