-- Its id, title and metadata are checked by the sessions_check trigger rather than CHECK constraints: those
-- would be evaluated again on every append's counter update, which touches neither.
create table starcite.sessions (
  id         text primary key,
  tenant_id  text not null default 'default' references starcite.tenants (id),
  title      text,
  metadata   jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  -- The per-session counter row: appends lock it until commit, which makes seq gapless and commit-ordered.
  last_seq   bigint not null default 0 check (last_seq >= 0),
  version    bigint not null default 1,
  archived   boolean not null default false,
  created_at timestamptz not null default clock_timestamp(),
  updated_at timestamptz not null default clock_timestamp(),
  -- Set once, when a Durable Stream is closed (Stream-Closed): the session accepts no more appends.
  closed_at  timestamptz
);

create index sessions_tenant_list_idx on starcite.sessions (tenant_id, archived, id);

alter table starcite.sessions enable row level security;

create policy sessions_tenant_isolation on starcite.sessions
  using (tenant_id = starcite.current_tenant())
  with check (tenant_id = starcite.current_tenant());

comment on table starcite.sessions is 'One row per session: its tenant, title, metadata and the counter row (last_seq) appends lock.';
