-- The next delivery of one stream of an endpoint: a session's events (session_id given) or the tenant's
-- session changes (session_id null). A pending delivery is returned again (same id, same items) once its backoff
-- has passed, so a stream never runs ahead of an unacknowledged delivery: deliveries are in order per session.
-- Otherwise up to max_items items past the stream's cursor that pass the endpoint's filters become a new
-- delivery; a window in which none passes just moves the cursor. Nothing when there is nothing to send now.
create function starcite.webhook_next_delivery(endpoint_id text, session_id text default null,
                                               max_items integer default 100)
returns setof starcite.webhook_delivery_request
language plpgsql volatile as $$
declare
  _w starcite.webhook_endpoints;
  _d starcite.webhook_deliveries;
  _s starcite.sessions;
  _cursor bigint;
  _to bigint;
  _last bigint;
  _items integer;
  _body jsonb;
begin
  select w.* into _w from starcite.webhook_endpoints w where w.id = webhook_next_delivery.endpoint_id;
  if _w.id is null or not _w.enabled then
    return;
  end if;
  select d.* into _d from starcite.webhook_deliveries d
  where d.endpoint_id = _w.id and d.session_id is not distinct from webhook_next_delivery.session_id
    and d.status = 'pending'
  for update;

  if _d.id is null and webhook_next_delivery.session_id is null then
    if not _w.lifecycle then
      return;
    end if;
    _cursor := _w.changes_delivered;
    for _round in 1 .. 10 loop
      select max(c.seq), count(*) filter (where _w.session_ids is null or c.session_id = any (_w.session_ids)),
             max(c.seq) filter (where _w.session_ids is null or c.session_id = any (_w.session_ids))
        into _last, _items, _to
      from (select c.seq, c.session_id from starcite.session_changes c
            where c.tenant_id = _w.tenant_id and c.seq > _cursor order by c.seq limit webhook_next_delivery.max_items) c;
      exit when _last is null or _items > 0;
      _cursor := _last;
    end loop;
    if _cursor > _w.changes_delivered then
      update starcite.webhook_endpoints w set changes_delivered = _cursor where w.id = _w.id;
    end if;
    if _items > 0 then
      insert into starcite.webhook_deliveries (id, endpoint_id, session_id, from_seq, to_seq, items)
      values ('dlv_' || left(starcite.random_token(1), 20), _w.id, null, _cursor + 1,
              case when _items >= webhook_next_delivery.max_items then _to else _last end, _items)
      returning * into _d;
    end if;
  elsif _d.id is null then
    select s.* into _s from starcite.sessions s where s.id = webhook_next_delivery.session_id and s.tenant_id = _w.tenant_id;
    if _s.id is null or not _w.events or not (_w.session_ids is null or _s.id = any (_w.session_ids)) then
      return;
    end if;
    select c.delivered_seq into _cursor from starcite.webhook_cursors c
    where c.endpoint_id = _w.id and c.session_id = _s.id;
    if _cursor is null then
      -- The first look at this session: a session older than the endpoint starts after the events it had then.
      _cursor := case when _s.created_at >= _w.created_at then 0
                      else greatest(coalesce((select max(e.seq) from starcite.events e
                                              where e.session_id = _s.id and e.inserted_at < _w.created_at), 0),
                                    coalesce((select b.first_seq - 1 from starcite.log_bounds b where b.session_id = _s.id), 0))
                 end;
      insert into starcite.webhook_cursors (endpoint_id, session_id, delivered_seq) values (_w.id, _s.id, _cursor)
      on conflict on constraint webhook_cursors_pkey do nothing;
    end if;
    _last := null;
    for _round in 1 .. 10 loop
      select max(e.seq), count(*) filter (where _w.types is null or e.type = any (_w.types)),
             max(e.seq) filter (where _w.types is null or e.type = any (_w.types))
        into _last, _items, _to
      from (select e.seq, e.type from starcite.events e
            where e.session_id = _s.id and e.seq > _cursor order by e.seq limit webhook_next_delivery.max_items) e;
      exit when _last is null or _items > 0;
      _cursor := _last;
      update starcite.webhook_cursors c set delivered_seq = _cursor, updated_at = clock_timestamp()
      where c.endpoint_id = _w.id and c.session_id = _s.id;
    end loop;
    if _items > 0 then
      insert into starcite.webhook_deliveries (id, endpoint_id, session_id, from_seq, to_seq, items)
      values ('dlv_' || left(starcite.random_token(1), 20), _w.id, _s.id, _cursor + 1,
              case when _items >= webhook_next_delivery.max_items then _to else _last end, _items)
      returning * into _d;
    end if;
  elsif _d.next_attempt_at > clock_timestamp() then
    return;
  end if;

  if _d.id is null then
    return;
  end if;
  if _d.session_id is null then
    _body := jsonb_build_object('id', _d.id, 'endpoint_id', _w.id, 'type', 'session_changes', 'tenant_id', _w.tenant_id,
      'from_seq', _d.from_seq, 'to_seq', _d.to_seq,
      'changes', (select coalesce(jsonb_agg(jsonb_build_object(
                    'seq', c.seq, 'session_id', c.session_id, 'kind', c.kind, 'version', c.version,
                    'archived', c.archived,
                    'changed_at', to_char(c.changed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
                    order by c.seq), '[]')
                  from starcite.session_changes c
                  where c.tenant_id = _w.tenant_id and c.seq between _d.from_seq and _d.to_seq
                    and (_w.session_ids is null or c.session_id = any (_w.session_ids))));
  else
    _body := jsonb_build_object('id', _d.id, 'endpoint_id', _w.id, 'type', 'events', 'tenant_id', _w.tenant_id,
      'session_id', _d.session_id, 'from_seq', _d.from_seq, 'to_seq', _d.to_seq,
      'events', (select coalesce(jsonb_agg(starcite.webhook_event_json(e) order by e.seq), '[]')
                 from starcite.events e
                 where e.session_id = _d.session_id and e.seq between _d.from_seq and _d.to_seq
                   and (_w.types is null or e.type = any (_w.types))));
  end if;
  return next row(_d.id, _w.url, _w.secret, _d.attempts + 1, _body)::starcite.webhook_delivery_request;
end
$$;
