-- Sessions whose policy archives and whose next expired event is not archived yet, at most max_sessions.
-- Read-only; the archiver then asks archive_range for each one.
create function starcite.archive_due(max_sessions integer default 100)
returns table (session_id text, tenant_id text)
language sql stable as $$
  select s.id, s.tenant_id
  from starcite.sessions s
  left join starcite.log_bounds b on b.session_id = s.id
  cross join lateral starcite.get_retention(s.id, s.tenant_id) p
  where p.archive
    and s.last_seq >= greatest(coalesce(b.archived_through, 0) + 1, coalesce(b.first_seq, 1))
    and starcite.expired_through(s.id, greatest(coalesce(b.archived_through, 0) + 1, coalesce(b.first_seq, 1)), 1)
        >= greatest(coalesce(b.archived_through, 0) + 1, coalesce(b.first_seq, 1))
    and s.tenant_id in (select p2.tenant_id from starcite.retention_policies p2 where p2.archive)
  order by s.id
  limit archive_due.max_sessions
$$;
