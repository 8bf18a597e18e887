-- PUT: creates a Durable Stream, or confirms an existing one. When the path's current stream is live, the call
-- succeeds (created = false) if its configuration is the request's -- media type, TTL or expiry, closure, and
-- for a fork its source, fork point and sub-offset -- and is stream_conflict otherwise; a deleted or expired
-- stream that forks still use is stream_conflict too. Otherwise a new incarnation starts: a new session
-- (ds_session_id), linked to the subscriptions that follow the path, holding the initial messages (a JSON
-- document, flattened one level) or body, and closed when asked.
--
-- A fork (fork_path) copies its source's messages up to the fork point (fork_epoch/fork_seq, default the
-- source's tail; the zero offset is epoch 0, seq 0) into its own session under the same seqs, so it shares the
-- source's offsets and outlives it. fork_sub_offset takes the next message's first N bytes (a non-JSON stream)
-- or the next N messages (JSON). A fork inherits the source's content type and TTL or expiry unless the
-- request sets its own, and none of its idempotent producers.
create function starcite.ds_create(path text, content_type text default null, ttl_seconds bigint default null,
                                   expires_at timestamptz default null, closed boolean default false,
                                   messages jsonb default null, body bytea default null, fork_path text default null,
                                   fork_epoch bigint default null, fork_seq bigint default null,
                                   fork_sub_offset bigint default 0, actor text default null,
                                   tenant_id text default null)
returns table (created boolean, state starcite.ds_stream_state)
language plpgsql volatile as $$
declare
  _tenant   text := starcite.resolve_tenant(ds_create.tenant_id);
  _cur      starcite.ds_streams;
  _src      starcite.ds_streams;
  _src_tail bigint;
  _ct       text := nullif(lower(btrim(ds_create.content_type)), '');
  _ttl      bigint := ds_create.ttl_seconds;
  _expires  timestamptz := ds_create.expires_at;
  _sub      bigint := coalesce(ds_create.fork_sub_offset, 0);
  _at       bigint;                -- the fork point: the source's seqs up to it are inherited
  _next     starcite.events;       -- the source's message after the fork point (for a sub-offset)
  _count    bigint;
  _id       bigint;
  _sid      text;
  _tail     bigint;
begin
  perform starcite.ds_check_path(ds_create.path);
  if ds_create.ttl_seconds is not null and ds_create.expires_at is not null then
    perform starcite.raise_error('invalid_argument', 'a stream has a TTL or an expiry time, not both', '{"field":"ttl"}');
  end if;
  if ds_create.ttl_seconds < 0 or ds_create.ttl_seconds > starcite.limit_value('stream_ttl_seconds') then
    perform starcite.raise_error('invalid_argument',
      format('Stream-TTL is 0 to %s seconds', starcite.limit_value('stream_ttl_seconds')),
      jsonb_build_object('field', 'ttl', 'max', starcite.limit_value('stream_ttl_seconds')));
  end if;
  if ds_create.fork_path is null and (ds_create.fork_seq is not null or _sub <> 0) then
    perform starcite.raise_error('invalid_argument', 'a fork offset needs the stream to fork from', '{"field":"fork"}');
  end if;
  if _sub < 0 then
    perform starcite.raise_error('invalid_argument', 'the fork sub-offset must be >= 0', '{"field":"fork_sub_offset"}');
  end if;
  -- One creator at a time per path: the incarnation number is read and taken under this lock.
  perform pg_advisory_xact_lock(hashtextextended('starcite.ds:' || ds_create.path, 0));

  select d.* into _cur from starcite.ds_streams d where d.path = ds_create.path
  order by d.incarnation desc limit 1 for update;
  if _cur.id is not null then
    _cur := starcite.ds_settle(_cur);
  end if;

  if ds_create.fork_path is not null then
    select d.* into _src from starcite.ds_streams d where d.path = ds_create.fork_path
    order by d.incarnation desc limit 1 for share;
    if _src.id is not null and _src.tenant_id = _tenant
       and (_src.deleted_at is not null or starcite.ds_expired(_src.ttl_seconds, _src.expires_at, _src.last_access_at))
       and starcite.ds_has_live_fork(_src.id) then
      perform starcite.raise_error('stream_conflict', format('stream %s was deleted; it cannot be forked', ds_create.fork_path),
        jsonb_build_object('path', ds_create.fork_path));
    end if;
    perform starcite.ds_raise_unless_live(_src, ds_create.fork_path, _tenant);
    if _ct is not null and starcite.ds_media_type(_ct) <> starcite.ds_media_type(_src.content_type) then
      perform starcite.raise_error('content_type_mismatch',
        format('stream %s has content type %s', ds_create.fork_path, _src.content_type),
        jsonb_build_object('content_type', _src.content_type));
    end if;
    _ct := _src.content_type;
    if _ttl is null and _expires is null then
      _ttl := _src.ttl_seconds;
      _expires := _src.expires_at;
    end if;
    _src_tail := (starcite.ds_state(_src)).tail_seq;
    if ds_create.fork_seq is null then
      _at := _src_tail;
    elsif ds_create.fork_epoch = 0 and ds_create.fork_seq = 0 then
      _at := 0;
    elsif ds_create.fork_epoch is distinct from _src.offset_epoch or ds_create.fork_seq < 0 then
      perform starcite.raise_error('invalid_argument', 'the fork offset is not an offset of the source stream',
        '{"field":"fork_offset"}');
    elsif ds_create.fork_seq > _src_tail then
      perform starcite.raise_error('invalid_argument', 'the fork offset is beyond the source stream''s tail',
        jsonb_build_object('field', 'fork_offset', 'tail_seq', _src_tail));
    else
      _at := ds_create.fork_seq;
    end if;
    if _sub > 0 then
      if starcite.ds_media_type(_ct) = 'application/json' then
        select count(*) into _count from starcite.events e
        where e.session_id = _src.session_id and e.seq > _at and e.seq <= _at + _sub and e.type <> 'ds.closed';
        if _count < _sub then
          perform starcite.raise_error('invalid_argument', 'the fork sub-offset is past the source''s last message',
            '{"field":"fork_sub_offset"}');
        end if;
      else
        select e.* into _next from starcite.events e where e.session_id = _src.session_id and e.seq = _at + 1;
        if _next.seq is null or _next.type = 'ds.closed' or _next.body is null or octet_length(_next.body) < _sub then
          perform starcite.raise_error('invalid_argument', 'the fork sub-offset is past the end of the next message',
            '{"field":"fork_sub_offset"}');
        end if;
      end if;
    end if;
  else
    _ct := coalesce(_ct, 'application/octet-stream');
  end if;

  -- A path is one namespace across tenants: another tenant's live stream holds it (a deleted one frees it).
  if _cur.id is not null and _cur.deleted_at is null and _cur.tenant_id <> _tenant then
    perform starcite.raise_error('stream_conflict', format('stream path %s is taken', ds_create.path),
      jsonb_build_object('path', ds_create.path));
  end if;
  if _cur.id is not null and _cur.deleted_at is null then
    -- The path's stream is live: confirm it, or refuse a different configuration.
    if starcite.ds_media_type(_cur.content_type) = starcite.ds_media_type(_ct)
       and _cur.ttl_seconds is not distinct from _ttl and _cur.expires_at is not distinct from _expires
       and (starcite.ds_state(_cur)).closed = ds_create.closed
       and _cur.forked_from is not distinct from _src.id and _cur.fork_seq is not distinct from _at
       and coalesce(_cur.fork_sub_offset, 0) = _sub then
      update starcite.ds_streams d set last_access_at = now() where d.id = _cur.id returning d.* into _cur;
      return query select false, starcite.ds_state(_cur);
      return;
    end if;
    perform starcite.raise_error('stream_conflict',
      format('stream %s exists with another content type, TTL, expiry, closure or fork', ds_create.path),
      jsonb_build_object('path', ds_create.path, 'content_type', _cur.content_type));
  end if;
  if _cur.id is not null and starcite.ds_has_live_fork(_cur.id) then
    if _cur.tenant_id <> _tenant then
      -- Another tenant's forks block the path; say no more than that it is taken.
      perform starcite.raise_error('stream_conflict', format('stream path %s is taken', ds_create.path),
        jsonb_build_object('path', ds_create.path));
    end if;
    perform starcite.raise_error('stream_conflict',
      format('stream %s was deleted but its forks still use it; the path cannot be reused yet', ds_create.path),
      jsonb_build_object('path', ds_create.path));
  end if;

  -- A new incarnation.
  _id := nextval(pg_get_serial_sequence('starcite.ds_streams', 'id'));
  _sid := starcite.ds_session_id(ds_create.path, coalesce(_cur.incarnation, 0) + 1);
  insert into starcite.sessions (id, tenant_id, title, last_seq) values (_sid, _tenant, ds_create.path, 0);
  insert into starcite.ds_streams (id, session_id, tenant_id, path, incarnation, offset_epoch, content_type,
                                   ttl_seconds, expires_at, forked_from, fork_seq, fork_sub_offset)
  values (_id, _sid, _tenant, ds_create.path, coalesce(_cur.incarnation, 0) + 1, coalesce(_src.offset_epoch, _id), _ct,
          _ttl, _expires, _src.id, _at, case when _src.id is not null then _sub end)
  returning * into _cur;

  _tail := 0;
  if _src.id is not null then
    insert into starcite.events (session_id, seq, type, payload, actor, source, metadata, refs, idempotency_key,
                                 producer_id, producer_seq, inserted_at, body)
    select _sid, e.seq, e.type, e.payload, e.actor, e.source, e.metadata, e.refs, e.idempotency_key, e.producer_id,
           e.producer_seq, e.inserted_at,
           case when _next.seq = e.seq then substring(e.body from 1 for _sub::integer) else e.body end
    from starcite.events e
    where e.session_id = _src.session_id and e.seq <= _at + case when _next.seq is not null then 1 else _sub end
      and e.type <> 'ds.closed'
    order by e.seq;
    _tail := _at + case when _next.seq is not null then 1 else _sub end;
    update starcite.sessions x set last_seq = _tail where x.id = _sid;
  end if;

  -- Subscriptions following this path see it from here: what the creation appends is new to them.
  perform starcite.ds_link_created(_cur, _tail);

  if ds_create.messages is not null then
    perform starcite.ds_insert(_sid, _ct, starcite.ds_messages(ds_create.messages), null, ds_create.closed, ds_create.actor);
  elsif ds_create.closed or coalesce(octet_length(ds_create.body) > 0, false) then
    perform starcite.ds_insert(_sid, _ct, null, nullif(ds_create.body, ''::bytea), ds_create.closed, ds_create.actor);
  end if;
  return query select true, starcite.ds_state(_cur);
end
$$;
