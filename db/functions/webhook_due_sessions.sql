-- Sessions with events an endpoint has not delivered yet and that are not waiting out a retry backoff, least
-- recently delivered first, at most max_sessions. A tenant-wide read: it looks at each of the tenant's sessions
-- (or the endpoint's session filter), once per worker round, never per append.
create function starcite.webhook_due_sessions(endpoint_id text, max_sessions integer default 100)
returns table (session_id text)
language sql stable as $$
  select s.id
  from starcite.webhook_endpoints w
  join starcite.sessions s on s.tenant_id = w.tenant_id and (w.session_ids is null or s.id = any (w.session_ids))
  left join starcite.webhook_cursors c on c.endpoint_id = w.id and c.session_id = s.id
  where w.id = webhook_due_sessions.endpoint_id and w.enabled and w.events
    and s.last_seq > coalesce(c.delivered_seq, 0)
    and not exists (select 1 from starcite.webhook_deliveries d
                    where d.endpoint_id = w.id and d.session_id = s.id and d.status = 'pending'
                      and d.next_attempt_at > clock_timestamp())
  order by c.updated_at nulls first, s.id
  limit webhook_due_sessions.max_sessions
$$;
