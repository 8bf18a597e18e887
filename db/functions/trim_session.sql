-- One small retention step for one session: deletes its expired events from the first one still kept, at most
-- max_events of them, and moves log_bounds.first_seq past them, in the caller's transaction. Never beyond what
-- the archive holds (when the policy archives) nor beyond what an enabled webhook endpoint has yet to deliver.
-- The session's counter row is not touched, so appends neither wait for this nor make it wait; seq stays
-- monotonic after deletes. Returns how many events went, the new first seq, and whether more are expired.
create function starcite.trim_session(session_id text, max_events integer default 1000)
returns table (deleted bigint, first_seq bigint, more boolean)
language plpgsql volatile as $$
declare
  _s starcite.sessions;
  _p starcite.retention_policy;
  _b starcite.log_bounds;
  _first bigint;
  _through bigint;
  _webhooks bigint;
begin
  if trim_session.max_events is null or trim_session.max_events < 1 then
    perform starcite.raise_error('invalid_argument', 'max_events must be >= 1', '{"field":"max_events"}');
  end if;
  select s.* into _s from starcite.sessions s where s.id = trim_session.session_id;
  if _s.id is null then
    return query select 0::bigint, null::bigint, false;
    return;
  end if;
  _p := starcite.get_retention(_s.id, _s.tenant_id);
  select b.* into _b from starcite.log_bounds b where b.session_id = _s.id;
  _first := coalesce(_b.first_seq, 1);
  if _p.scope is null then
    return query select 0::bigint, _first, false;
    return;
  end if;

  _through := starcite.expired_through(_s.id, _first, trim_session.max_events);
  if _p.archive then
    _through := least(_through, coalesce(_b.archived_through, 0));
  end if;
  select min(coalesce(c.delivered_seq, 0)) into _webhooks
  from starcite.webhook_endpoints w
  left join starcite.webhook_cursors c on c.endpoint_id = w.id and c.session_id = _s.id
  where w.tenant_id = _s.tenant_id and w.enabled and w.events
    and (w.session_ids is null or _s.id = any (w.session_ids))
    and (c.session_id is not null or _s.created_at >= w.created_at);
  _through := least(_through, coalesce(_webhooks, _through));

  if _through < _first then
    return query select 0::bigint, _first, false;
    return;
  end if;
  delete from starcite.events e where e.session_id = _s.id and e.seq >= _first and e.seq <= _through;
  insert into starcite.log_bounds as b (session_id, first_seq) values (_s.id, _through + 1)
  on conflict on constraint log_bounds_pkey do update set first_seq = greatest(b.first_seq, excluded.first_seq);
  return query select _through - _first + 1, _through + 1, _through - _first + 1 >= trim_session.max_events;
end
$$;
