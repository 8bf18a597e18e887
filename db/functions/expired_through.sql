-- The highest seq such that every event of the session from from_seq up to it is expired under the session's
-- policy (older than max_age, or more than max_events behind the newest), looking at most max_scan events
-- ahead; from_seq - 1 when the first is not expired. Expiry is a prefix of the log: seq and inserted_at grow
-- together within a session (appends to it are serialised by its counter row).
create function starcite.expired_through(session_id text, from_seq bigint, max_scan integer)
returns bigint
language plpgsql stable as $$
declare
  _s starcite.sessions;
  _p starcite.retention_policy;
  _by_count bigint;
  _by_age bigint;
begin
  select s.* into _s from starcite.sessions s where s.id = expired_through.session_id;
  if _s.id is null then
    return from_seq - 1;
  end if;
  _p := starcite.get_retention(_s.id, _s.tenant_id);
  _by_count := least(_s.last_seq - coalesce(_p.max_events, _s.last_seq), from_seq + max_scan - 1);
  if _p.max_age is not null then
    with w as (select e.seq, e.inserted_at from starcite.events e
               where e.session_id = expired_through.session_id and e.seq >= expired_through.from_seq
               order by e.seq limit expired_through.max_scan)
    select coalesce((select min(w.seq) from w where w.inserted_at >= clock_timestamp() - _p.max_age) - 1,
                    (select max(w.seq) from w),
                    expired_through.from_seq - 1)
      into _by_age;
  end if;
  return greatest(_by_count, coalesce(_by_age, from_seq - 1), from_seq - 1);
end
$$;
