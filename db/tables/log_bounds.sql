-- Where a session's log begins, once retention or the archive has touched it (no row: first_seq 1, nothing
-- archived). Kept apart from the sessions row on purpose: appends lock that row, and retention must never
-- wait for them or make them wait.
create table starcite.log_bounds (
  session_id       text primary key references starcite.sessions (id) on delete cascade,
  -- Events with seq below this have been deleted from starcite.events.
  first_seq        bigint not null default 1 check (first_seq >= 1),
  -- The archive holds archived_from .. archived_through without a hole (0 / null: nothing archived).
  archived_from    bigint check (archived_from >= 1),
  archived_through bigint not null default 0 check (archived_through >= 0)
);

alter table starcite.log_bounds enable row level security;

create policy log_bounds_tenant_isolation on starcite.log_bounds
  using (exists (select 1 from starcite.sessions s
                 where s.id = log_bounds.session_id and s.tenant_id = starcite.current_tenant()));

comment on table starcite.log_bounds is 'Per session: the first seq still in Postgres and the archived range.';
