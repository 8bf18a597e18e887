create table starcite.events (
  session_id      text not null references starcite.sessions (id) on delete cascade,
  seq             bigint not null check (seq >= 1),
  type            text not null check (type <> ''),
  payload         jsonb not null check (jsonb_typeof(payload) = 'object'),
  actor           text,
  source          text,
  metadata        jsonb,
  refs            jsonb,
  idempotency_key text,
  producer_id     text,
  producer_seq    bigint check (producer_seq >= 1),
  inserted_at     timestamptz not null default clock_timestamp(),
  -- The bytes of a Durable Streams message in a non-JSON stream (docs/durable-streams.md); null for every other
  -- event, so JSON sessions store and read exactly what they did before.
  body            bytea,
  primary key (session_id, seq),
  check ((producer_id is null) = (producer_seq is null))
);

-- The cap on a binary body is limit_value's, copied into the constraint as a number when the table is made: a CHECK
-- that calls limit_value has the call folded to a constant again by every INSERT statement (Postgres plans a
-- table's checks per statement), ~20 µs per append. test/sql/facts.test.ts checks the copy against the limit.
do $$
begin
  execute format('alter table starcite.events add constraint events_body_check check (octet_length(body) <= %s)',
                 starcite.limit_value('event_body_bytes'));
end
$$;

-- Dedup lookups run under the session lock; these make them one index probe each.
create unique index events_producer_idx on starcite.events (session_id, producer_id, producer_seq)
  where producer_id is not null;
create unique index events_idempotency_idx on starcite.events (session_id, idempotency_key)
  where idempotency_key is not null;

alter table starcite.events enable row level security;

create policy events_tenant_isolation on starcite.events
  using (exists (select 1 from starcite.sessions s
                 where s.id = events.session_id and s.tenant_id = starcite.current_tenant()));

comment on table starcite.events is 'The log: one row per appended event, seq gapless per session in commit order.';
