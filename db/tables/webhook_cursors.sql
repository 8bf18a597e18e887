-- The durable per-endpoint, per-session cursor of event deliveries: the last seq delivered. A session without
-- a row starts at 0 (it was created after the endpoint; sessions that existed then got a row at their last_seq).
create table starcite.webhook_cursors (
  endpoint_id   text not null references starcite.webhook_endpoints (id) on delete cascade,
  session_id    text not null references starcite.sessions (id) on delete cascade,
  delivered_seq bigint not null default 0 check (delivered_seq >= 0),
  updated_at    timestamptz not null default clock_timestamp(),
  primary key (endpoint_id, session_id)
);

create index webhook_cursors_session_idx on starcite.webhook_cursors (session_id);

alter table starcite.webhook_cursors enable row level security;

create policy webhook_cursors_tenant_isolation on starcite.webhook_cursors
  using (exists (select 1 from starcite.webhook_endpoints w
                 where w.id = webhook_cursors.endpoint_id and w.tenant_id = starcite.current_tenant()));

comment on table starcite.webhook_cursors is 'Per endpoint and session: the last event seq delivered.';
