-- Sessions that trim_session can shorten now (a cheap test per session: whether its first event kept is
-- expired and may go), at most max_sessions of them. Read-only; it looks at every session that has a policy,
-- its own or its tenant's, so the retention worker calls it once per round, not per append.
create function starcite.retention_due(max_sessions integer default 100)
returns table (session_id text, tenant_id text)
language sql stable as $$
  select s.id, s.tenant_id
  from starcite.sessions s
  left join starcite.log_bounds b on b.session_id = s.id
  cross join lateral starcite.get_retention(s.id, s.tenant_id) p
  where p.scope is not null
    and s.last_seq >= coalesce(b.first_seq, 1)
    and starcite.expired_through(s.id, coalesce(b.first_seq, 1), 1) >= coalesce(b.first_seq, 1)
    and (not p.archive or coalesce(b.archived_through, 0) >= coalesce(b.first_seq, 1))
    and s.tenant_id in (select p2.tenant_id from starcite.retention_policies p2)
  order by s.id
  limit retention_due.max_sessions
$$;
