-- The tenant's sessions ordered by id, keyset-paged with after_id.
create function starcite.list_sessions(max_sessions integer default 100, after_id text default null,
                                       archived boolean default false, tenant_id text default null)
returns setof starcite.sessions
language plpgsql stable as $$
begin
  perform starcite.check_page_size(list_sessions.max_sessions, 'sessions_per_list');
  return query
    select s.* from starcite.sessions s
    where s.tenant_id = starcite.resolve_tenant(list_sessions.tenant_id)
      and s.archived = coalesce(list_sessions.archived, false)
      and (list_sessions.after_id is null or s.id > list_sessions.after_id)
    order by s.id
    limit list_sessions.max_sessions;
end
$$;
