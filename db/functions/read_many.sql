-- The new events of many sessions in one statement: for each (session_ids[i], after_seqs[i], max_events[i]), the
-- events with seq > after_seqs[i] in seq order, at most max_events[i] of them (1..events_per_read), at most
-- events_per_read sessions per call. What a process's live fan-out reads when many sessions advanced at once.
-- Sessions the tenant does not have give no rows.
create function starcite.read_many(session_ids text[], after_seqs bigint[], max_events integer[],
                                   tenant_id text default null)
returns setof starcite.events
language plpgsql stable as $$
begin
  if session_ids is null or after_seqs is null or max_events is null
     or cardinality(session_ids) <> cardinality(after_seqs) or cardinality(session_ids) <> cardinality(max_events) then
    perform starcite.raise_error('invalid_argument', 'session_ids, after_seqs and max_events must be arrays of the same length',
      '{"field":"session_ids"}');
  end if;
  if cardinality(session_ids) > starcite.limit_value('events_per_read') then
    perform starcite.raise_error('invalid_argument',
      format('at most %s sessions per call', starcite.limit_value('events_per_read')),
      jsonb_build_object('field', 'session_ids', 'max', starcite.limit_value('events_per_read')));
  end if;
  if exists (select 1 from unnest(after_seqs, max_events) as c(after_seq, n)
             where c.after_seq is null or c.after_seq < 0 or c.n is null or c.n < 1
                or c.n > starcite.limit_value('events_per_read')) then
    perform starcite.raise_error('invalid_argument',
      format('every after_seq must be >= 0 and every max_events between 1 and %s', starcite.limit_value('events_per_read')),
      '{"field":"max_events"}');
  end if;
  return query
    select e.*
    from unnest(session_ids, after_seqs, max_events) as c(session_id, after_seq, n)
    join starcite.sessions s on s.id = c.session_id and s.tenant_id = starcite.resolve_tenant(read_many.tenant_id)
    cross join lateral (select e.* from starcite.events e
                        where e.session_id = c.session_id and e.seq > c.after_seq
                        order by e.seq
                        limit c.n) e;
end
$$;
