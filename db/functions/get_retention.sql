-- The retention policy in force: for a session, its own, else its tenant's; without session_id, the tenant's.
create function starcite.get_retention(session_id text default null, tenant_id text default null)
returns starcite.retention_policy
language sql stable as $$
  select coalesce(
    (select row(case when p.session_id is null then 'tenant' else 'session' end, p.max_age, p.max_events,
                p.archive)::starcite.retention_policy
     from starcite.retention_policies p
     where p.tenant_id = starcite.resolve_tenant(get_retention.tenant_id)
       and (p.session_id = get_retention.session_id or p.session_id is null)
     order by p.session_id nulls last
     limit 1),
    row(null, null, null, null)::starcite.retention_policy)
$$;
