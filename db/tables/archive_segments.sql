-- One object in the archive store per row: a session's events from_seq .. to_seq as NDJSON (README "Archive").
create table starcite.archive_segments (
  session_id  text not null references starcite.sessions (id) on delete cascade,
  from_seq    bigint not null check (from_seq >= 1),
  to_seq      bigint not null,
  object_key  text not null,
  bytes       bigint not null check (bytes >= 0),
  archived_at timestamptz not null default clock_timestamp(),
  primary key (session_id, from_seq),
  check (to_seq >= from_seq)
);

alter table starcite.archive_segments enable row level security;

create policy archive_segments_tenant_isolation on starcite.archive_segments
  using (exists (select 1 from starcite.sessions s
                 where s.id = archive_segments.session_id and s.tenant_id = starcite.current_tenant()));

comment on table starcite.archive_segments is 'Archived ranges of a session''s log: which object holds which seqs.';
