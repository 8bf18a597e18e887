-- Webhook endpoints: where a tenant's events and session changes are POSTed, signed with the endpoint's secret.
-- The secret is kept in clear because signing needs it; it is shown once, at creation, and never listed.
create table starcite.webhook_endpoints (
  id          text primary key,
  tenant_id   text not null references starcite.tenants (id) on delete cascade,
  url         text not null check (url ~ '^https?://[^\s]+$'
                                   and char_length(url) <= starcite.limit_value('webhook_url_chars')),
  secret      text not null,
  -- Filters: only these sessions / event types (null: all).
  session_ids text[] check (cardinality(session_ids) between 1 and starcite.limit_value('webhook_filter_items')),
  types       text[] check (cardinality(types) between 1 and starcite.limit_value('webhook_filter_items')),
  events      boolean not null default true,
  lifecycle   boolean not null default true,
  enabled     boolean not null default true,
  -- The durable cursor of lifecycle deliveries: the last session-change seq delivered.
  changes_delivered bigint not null default 0,
  created_at  timestamptz not null default clock_timestamp(),
  updated_at  timestamptz not null default clock_timestamp(),
  check (events or lifecycle)
);

create index webhook_endpoints_tenant_idx on starcite.webhook_endpoints (tenant_id, created_at);

alter table starcite.webhook_endpoints enable row level security;

create policy webhook_endpoints_tenant_isolation on starcite.webhook_endpoints
  using (tenant_id = starcite.current_tenant())
  with check (tenant_id = starcite.current_tenant());

comment on table starcite.webhook_endpoints is 'Webhook endpoints: URL, signing secret, filters, and the lifecycle cursor.';
