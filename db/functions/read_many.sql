-- The new events of many sessions in one statement: for each (session_ids[i], after_seqs[i], max_events[i]), the
-- events with seq > after_seqs[i] in seq order, at most max_events[i] of them (1..events_per_read), at most
-- events_per_read sessions per call (starcite.check_read_many). What a process's live fan-out reads when many
-- sessions advanced at once. Sessions the tenant does not have give no rows. A SQL function the planner inlines,
-- with the checks as a one-time filter above the join (see starcite.read for why not PL/pgSQL).
create function starcite.read_many(session_ids text[], after_seqs bigint[], max_events integer[],
                                   tenant_id text default null)
returns setof starcite.events
language sql stable as $$
  select e.*
  from unnest(read_many.session_ids, read_many.after_seqs, read_many.max_events) as c(session_id, after_seq, n)
  join starcite.sessions s on s.id = c.session_id and s.tenant_id = starcite.resolve_tenant(read_many.tenant_id)
  cross join lateral (select e.* from starcite.events e
                      where e.session_id = c.session_id and e.seq > c.after_seq
                      order by e.seq
                      limit c.n) e
  where (select starcite.check_read_many(read_many.session_ids, read_many.after_seqs, read_many.max_events))
$$;
