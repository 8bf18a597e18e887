-- Idempotent producers of a Durable Stream (Producer-Id / -Epoch / -Seq): the epoch a producer holds and the
-- last batch seq it had accepted in it. Updated in the transaction that appends, so a retry after a crash
-- still dedupes. A fork starts with none (it is a new stream to its writers).
create table starcite.ds_producers (
  session_id  text not null references starcite.sessions (id) on delete cascade,
  producer_id text not null check (producer_id <> ''),
  epoch       bigint not null check (epoch >= 0),
  last_seq    bigint not null check (last_seq >= 0),
  updated_at  timestamptz not null default clock_timestamp(),
  primary key (session_id, producer_id)
);

alter table starcite.ds_producers enable row level security;

create policy ds_producers_tenant_isolation on starcite.ds_producers
  using (exists (select 1 from starcite.sessions s
                 where s.id = ds_producers.session_id and s.tenant_id = starcite.current_tenant()));

comment on table starcite.ds_producers is 'Durable Streams idempotent producers: epoch and last accepted seq per stream session and producer.';
