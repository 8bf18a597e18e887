-- The archived object that holds seq of the session (no row when none does).
create function starcite.archive_segment(session_id text, seq bigint, tenant_id text default null)
returns setof starcite.archive_segments
language sql stable as $$
  select a.* from starcite.archive_segments a
  join starcite.sessions s on s.id = a.session_id
  where a.session_id = archive_segment.session_id and s.tenant_id = starcite.resolve_tenant(archive_segment.tenant_id)
    and a.from_seq <= archive_segment.seq and a.to_seq >= archive_segment.seq
  order by a.from_seq desc
  limit 1
$$;
