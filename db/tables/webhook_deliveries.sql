-- One row per delivery: a batch of one session's events (from_seq .. to_seq), or of the tenant's session
-- changes (session_id null), POSTed until the endpoint answers 2xx. At most one is pending per endpoint and
-- stream, which keeps each session's deliveries in order; a retry sends the same id and the same body.
create table starcite.webhook_deliveries (
  id              text primary key,
  endpoint_id     text not null references starcite.webhook_endpoints (id) on delete cascade,
  session_id      text,
  from_seq        bigint not null,
  to_seq          bigint not null,
  items           integer not null check (items >= 1),
  status          text not null default 'pending' check (status in ('pending', 'succeeded')),
  attempts        integer not null default 0,
  next_attempt_at timestamptz not null default clock_timestamp(),
  last_attempt_at timestamptz,
  last_status     integer,
  last_error      text,
  created_at      timestamptz not null default clock_timestamp(),
  delivered_at    timestamptz,
  check (to_seq >= from_seq)
);

create unique index webhook_deliveries_pending_idx on starcite.webhook_deliveries (endpoint_id, coalesce(session_id, ''))
  where status = 'pending';
create index webhook_deliveries_endpoint_idx on starcite.webhook_deliveries (endpoint_id, created_at desc);

alter table starcite.webhook_deliveries enable row level security;

create policy webhook_deliveries_tenant_isolation on starcite.webhook_deliveries
  using (exists (select 1 from starcite.webhook_endpoints w
                 where w.id = webhook_deliveries.endpoint_id and w.tenant_id = starcite.current_tenant()));

comment on table starcite.webhook_deliveries is 'Webhook deliveries: what was sent where, how often, and with what answer.';
