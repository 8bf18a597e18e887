-- Durable Streams subscriptions (PROTOCOL.md section 6): durable cursors over the streams a glob pattern or an
-- explicit list names, woken by webhook or by a wake event in a wake stream. The wake state machine lives
-- here so that several server processes agree on it: a wake (generation, wake_id) is issued by one UPDATE,
-- and callbacks, acks and releases are fenced against it.
create table starcite.ds_subscriptions (
  tenant_id       text not null references starcite.tenants (id),
  id              text not null check (char_length(id) between 1 and 256),
  type            text not null check (type in ('webhook', 'pull-wake')),
  pattern         text,
  -- The pattern as a regular expression over stream paths (ds_glob_regex).
  pattern_regex   text,
  webhook_url     text,
  wake_stream     text,
  lease_ttl_ms    integer not null check (lease_ttl_ms between 1000 and 600000),
  description     text,
  -- Hash of the normalised configuration: a PUT with the same hash re-confirms, another one conflicts.
  config_hash     text not null,
  -- Where callbacks and the JWKS live, as seen by the client that created it.
  base_url        text not null,
  created_at      timestamptz not null default clock_timestamp(),
  generation      bigint not null default 0,
  wake_id         text,
  -- idle: nothing in flight; woken: a wake was issued and nobody holds it yet; claimed: a worker or the
  -- webhook handler holds the lease.
  wake_state      text not null default 'idle' check (wake_state in ('idle', 'woken', 'claimed')),
  holder          text,
  lease_until     timestamptz,
  -- The tails the current wake reported: what a webhook's {"done": true} acks.
  wake_snapshot   jsonb,
  -- Webhook retries: attempts since the last success and when the next one is due (persisted backoff).
  attempts        integer not null default 0,
  next_attempt_at timestamptz,
  primary key (tenant_id, id),
  check (type <> 'webhook' or webhook_url is not null),
  check (type <> 'pull-wake' or wake_stream is not null),
  check ((pattern is null) = (pattern_regex is null))
);

create index ds_subscriptions_due_idx on starcite.ds_subscriptions (least(lease_until, next_attempt_at));

alter table starcite.ds_subscriptions enable row level security;

create policy ds_subscriptions_tenant_isolation on starcite.ds_subscriptions
  using (tenant_id = starcite.current_tenant())
  with check (tenant_id = starcite.current_tenant());

comment on table starcite.ds_subscriptions is 'Durable Streams subscriptions: configuration and wake state (generation, lease, webhook retries).';
