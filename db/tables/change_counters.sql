-- Each tenant's lifecycle counter row. Recording a session change bumps it, which locks it until commit: the
-- tenant's change seq is then gapless and in commit order (as events' seq is per session), so a lifecycle
-- cursor "seq > N" never skips a change that commits late. The cost: session creates, updates and deletes of
-- one tenant serialise on this row for the rest of their transaction.
create table starcite.change_counters (
  tenant_id  text primary key references starcite.tenants (id) on delete cascade,
  last_seq   bigint not null default 0 check (last_seq >= 0),
  -- Changes with seq below this were removed by retention (see trim_changes); 1 while none were.
  first_seq  bigint not null default 1 check (first_seq >= 1)
);

alter table starcite.change_counters enable row level security;

create policy change_counters_tenant_isolation on starcite.change_counters
  using (tenant_id = starcite.current_tenant())
  with check (tenant_id = starcite.current_tenant());

comment on table starcite.change_counters is 'Per tenant: the last session-change seq (the row changes lock) and the first one retained.';
