-- migrate:up

-- The session log: sessions, events, and the functions that sequence, dedupe, append and read them.
-- Every invariant (gapless commit-ordered seq, producer dedup, tenancy) lives here so that direct SQL
-- callers get exactly the semantics the GraphQL server gets.

create schema starcite;

comment on schema starcite is 'starcite: durable, ordered session streams. See README.md for the SQL API.';

create table starcite.tenants (
  id         text primary key check (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
  name       text,
  created_at timestamptz not null default now()
);

insert into starcite.tenants (id, name) values ('default', 'Default tenant');

create table starcite.sessions (
  id         text primary key check (id ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$'),
  tenant_id  text not null default 'default' references starcite.tenants (id),
  title      text check (char_length(title) <= 1000),
  metadata   jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  -- The per-session counter row: appends lock it until commit, which makes seq gapless and commit-ordered.
  last_seq   bigint not null default 0 check (last_seq >= 0),
  version    bigint not null default 1,
  archived   boolean not null default false,
  created_at timestamptz not null default clock_timestamp(),
  updated_at timestamptz not null default clock_timestamp()
);

create index sessions_tenant_list_idx on starcite.sessions (tenant_id, archived, id);

create table starcite.events (
  session_id      text not null references starcite.sessions (id) on delete cascade,
  seq             bigint not null check (seq >= 1),
  type            text not null check (type <> ''),
  payload         jsonb not null check (jsonb_typeof(payload) = 'object'),
  actor           text,
  source          text,
  metadata        jsonb,
  refs            jsonb,
  idempotency_key text,
  producer_id     text,
  producer_seq    bigint check (producer_seq >= 1),
  inserted_at     timestamptz not null default clock_timestamp(),
  primary key (session_id, seq),
  check ((producer_id is null) = (producer_seq is null))
);

-- Dedup lookups run under the session lock; these make them one index probe each.
create unique index events_producer_idx on starcite.events (session_id, producer_id, producer_seq)
  where producer_id is not null;
create unique index events_idempotency_idx on starcite.events (session_id, idempotency_key)
  where idempotency_key is not null;

-- ---------------------------------------------------------------------------------------------
-- Errors: one stable code name per failure, each with a fixed SQLSTATE in class 'SC'.
-- The message starts with the code name; the detail is a JSON object with machine-readable facts.
-- ---------------------------------------------------------------------------------------------

create function starcite.error_sqlstate(code text) returns text
language sql immutable parallel safe as $$
  select case code
    when 'invalid_argument'         then 'SC001'
    when 'invalid_event'            then 'SC002'
    when 'payload_too_large'        then 'SC003'
    when 'session_not_found'        then 'SC100'
    when 'session_exists'           then 'SC101'
    when 'version_conflict'         then 'SC102'
    when 'expected_seq_conflict'    then 'SC200'
    when 'producer_seq_conflict'    then 'SC201'
    when 'producer_replay_conflict' then 'SC202'
    when 'idempotency_conflict'     then 'SC203'
    else 'SC000'
  end
$$;

-- Volatile on purpose: an immutable raiser could be constant-folded (and so raise) at plan time.
create function starcite.raise_error(code text, message text, detail jsonb default '{}') returns void
language plpgsql volatile as $$
begin
  raise exception using
    errcode = starcite.error_sqlstate(raise_error.code),
    message = raise_error.code || ': ' || raise_error.message,
    detail = coalesce(raise_error.detail, '{}')::text;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Tenancy: the caller's tenant is the transaction/session setting starcite.tenant_id,
-- or 'default' when it is unset.
-- ---------------------------------------------------------------------------------------------

create function starcite.current_tenant() returns text
language sql stable parallel safe as $$
  select coalesce(nullif(current_setting('starcite.tenant_id', true), ''), 'default')
$$;

-- ---------------------------------------------------------------------------------------------
-- Sessions
-- ---------------------------------------------------------------------------------------------

create function starcite.generate_session_id() returns text
language sql volatile as $$
  select 'ses_' || rtrim(translate(encode(uuid_send(gen_random_uuid()), 'base64'), '+/', '-_'), '=')
$$;

create function starcite.create_session(id text default null, title text default null, metadata jsonb default null)
returns starcite.sessions
language plpgsql volatile as $$
declare
  _id text := coalesce(create_session.id, starcite.generate_session_id());
  _row starcite.sessions;
begin
  if _id !~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$' then
    perform starcite.raise_error('invalid_argument',
      'session id must be 1-128 characters of [A-Za-z0-9_.:-], starting with a letter or digit',
      jsonb_build_object('field', 'id'));
  end if;
  if char_length(create_session.title) > 1000 then
    perform starcite.raise_error('invalid_argument', 'title is longer than 1000 characters',
      jsonb_build_object('field', 'title'));
  end if;
  if create_session.metadata is not null and jsonb_typeof(create_session.metadata) <> 'object' then
    perform starcite.raise_error('invalid_argument', 'metadata must be a JSON object',
      jsonb_build_object('field', 'metadata'));
  end if;
  if octet_length(create_session.metadata::text) > 65536 then
    perform starcite.raise_error('payload_too_large', 'session metadata is larger than 65536 bytes',
      jsonb_build_object('field', 'metadata', 'limit', 65536));
  end if;

  insert into starcite.sessions (id, tenant_id, title, metadata)
  values (_id, starcite.current_tenant(), create_session.title, coalesce(create_session.metadata, '{}'))
  on conflict on constraint sessions_pkey do nothing
  returning * into _row;

  if _row.id is null then
    perform starcite.raise_error('session_exists', format('session %s already exists', _id),
      jsonb_build_object('session_id', _id));
  end if;
  return _row;
end
$$;

create function starcite.get_session(id text) returns starcite.sessions
language sql stable as $$
  select s.* from starcite.sessions s
  where s.id = get_session.id and s.tenant_id = starcite.current_tenant()
$$;

create function starcite.list_sessions(max_sessions integer default 100, after_id text default null,
                                       archived boolean default false)
returns setof starcite.sessions
language plpgsql stable as $$
begin
  if max_sessions is null or max_sessions < 1 or max_sessions > 1000 then
    perform starcite.raise_error('invalid_argument', 'limit must be between 1 and 1000',
      jsonb_build_object('field', 'limit', 'min', 1, 'max', 1000));
  end if;
  return query
    select s.* from starcite.sessions s
    where s.tenant_id = starcite.current_tenant()
      and s.archived = coalesce(list_sessions.archived, false)
      and (list_sessions.after_id is null or s.id > list_sessions.after_id)
    order by s.id
    limit list_sessions.max_sessions;
end
$$;

-- Null arguments leave a field unchanged. expected_version, when given, must equal the current version.
create function starcite.update_session(id text, title text default null, metadata jsonb default null,
                                        expected_version bigint default null, archived boolean default null)
returns starcite.sessions
language plpgsql volatile as $$
declare
  _row starcite.sessions;
begin
  if char_length(update_session.title) > 1000 then
    perform starcite.raise_error('invalid_argument', 'title is longer than 1000 characters',
      jsonb_build_object('field', 'title'));
  end if;
  if update_session.metadata is not null and jsonb_typeof(update_session.metadata) <> 'object' then
    perform starcite.raise_error('invalid_argument', 'metadata must be a JSON object',
      jsonb_build_object('field', 'metadata'));
  end if;
  if octet_length(update_session.metadata::text) > 65536 then
    perform starcite.raise_error('payload_too_large', 'session metadata is larger than 65536 bytes',
      jsonb_build_object('field', 'metadata', 'limit', 65536));
  end if;

  select s.* into _row from starcite.sessions s
  where s.id = update_session.id and s.tenant_id = starcite.current_tenant()
  for no key update;
  if _row.id is null then
    perform starcite.raise_error('session_not_found', format('session %s does not exist', update_session.id),
      jsonb_build_object('session_id', update_session.id));
  end if;
  if update_session.expected_version is not null and update_session.expected_version <> _row.version then
    perform starcite.raise_error('version_conflict',
      format('session %s is at version %s, expected %s', _row.id, _row.version, update_session.expected_version),
      jsonb_build_object('session_id', _row.id, 'version', _row.version,
                         'expected_version', update_session.expected_version));
  end if;

  update starcite.sessions s set
    title = coalesce(update_session.title, s.title),
    metadata = coalesce(update_session.metadata, s.metadata),
    archived = coalesce(update_session.archived, s.archived),
    version = s.version + 1,
    updated_at = clock_timestamp()
  where s.id = _row.id
  returning s.* into _row;
  return _row;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Appends
-- ---------------------------------------------------------------------------------------------

create type starcite.append_result as (
  idx           integer,  -- 1-based position of the item in the input
  seq           bigint,   -- the event's seq (the original one when deduped); null on error
  last_seq      bigint,   -- the session's last seq after this item; null on error
  deduped       boolean,  -- true when the item matched an event already in the log
  error_code    text,     -- null on success, else a code from starcite.error_sqlstate
  error_message text,
  error_detail  jsonb
);

create function starcite.same_event_content(a starcite.events, b starcite.events) returns boolean
language sql immutable parallel safe as $$
  select a.type = b.type
     and a.payload = b.payload
     and a.actor is not distinct from b.actor
     and a.source is not distinct from b.source
     and a.metadata is not distinct from b.metadata
     and a.refs is not distinct from b.refs
     and a.idempotency_key is not distinct from b.idempotency_key
     and a.producer_id is not distinct from b.producer_id
     and a.producer_seq is not distinct from b.producer_seq
$$;

-- The one append engine. items is a JSON array of objects with the keys
--   session_id, type, payload, actor, source, metadata, refs, idempotency_key, producer_id,
--   producer_seq, expected_seq, tenant_id (defaults to starcite.current_tenant())
-- and the result has one row per item, in input order. Every touched session row is locked (in id
-- order, so concurrent multi-session batches cannot deadlock) until the caller commits; all new
-- events go in with ONE insert, so the notify trigger fires once per session per call.
-- With atomic = true the first failing item raises its error and nothing is written; otherwise a
-- failing item is reported in its row and the others still append.
-- Known failures are decided without raising, so no subtransaction is opened per item.
create function starcite.append_items(items jsonb, atomic boolean default false)
returns setof starcite.append_result
language plpgsql volatile as $$
#variable_conflict use_variable
declare
  _tenant  text := starcite.current_tenant();
  _n       integer;
  _sids    text[];    -- locked sessions, sorted by id
  _lasts   bigint[];  -- their running last_seq
  _tids    text[];    -- their tenants
  _touched boolean := false;
  _rows    starcite.events[] := '{}';
  _keys    text[] := '{}';   -- in-call dedup keys ...
  _keyrows integer[] := '{}'; -- ... and the _rows index each points at
  _pkeys   text[] := '{}';   -- producers seen in this call ...
  _plasts  bigint[] := '{}'; -- ... and their last producer_seq
  _e       jsonb;
  _i       integer;
  _si      integer;
  _pi      integer;
  _ki      integer;
  _row     starcite.events;
  _found   starcite.events;
  _plast   bigint;
  _expected bigint;
  _code    text;
  _msg     text;
  _detail  jsonb;
  _res     starcite.append_result;
begin
  if items is null or jsonb_typeof(items) <> 'array' then
    perform starcite.raise_error('invalid_argument', 'events must be a JSON array', '{"field":"events"}');
  end if;
  _n := jsonb_array_length(items);
  if _n > 1000 then
    perform starcite.raise_error('invalid_argument', format('at most 1000 events per call, got %s', _n),
      jsonb_build_object('field', 'events', 'max', 1000, 'count', _n));
  end if;
  if _n = 0 then
    return;
  end if;

  select coalesce(array_agg(l.id order by l.id), '{}'), coalesce(array_agg(l.last_seq order by l.id), '{}'),
         coalesce(array_agg(l.tenant_id order by l.id), '{}')
    into _sids, _lasts, _tids
  from (
    select s.id, s.last_seq, s.tenant_id
    from starcite.sessions s
    where (s.id, s.tenant_id) in (
      select distinct i->>'session_id', coalesce(i->>'tenant_id', _tenant)
      from jsonb_array_elements(items) i
      where jsonb_typeof(i) = 'object' and jsonb_typeof(i->'session_id') = 'string')
    order by s.id
    for no key update
  ) l;

  for _i in 1.._n loop
    _e := items->(_i - 1);
    _code := null;
    _msg := null;
    _detail := null;
    _row := null;
    _found := null;
    _pi := null;
    _res := row(_i, null, null, false, null, null, null)::starcite.append_result;

    -- Shape and limits.
    if jsonb_typeof(_e) is distinct from 'object' then
      _code := 'invalid_event'; _msg := 'each event must be a JSON object';
    elsif jsonb_typeof(_e->'session_id') is distinct from 'string' then
      _code := 'invalid_event'; _msg := 'session_id is required'; _detail := '{"field":"session_id"}';
    elsif coalesce(jsonb_typeof(_e->'type'), 'null') not in ('string', 'null') or coalesce(_e->>'type', 'content') = '' then
      _code := 'invalid_event'; _msg := 'type must be a non-empty string'; _detail := '{"field":"type"}';
    elsif char_length(_e->>'type') > 128 then
      _code := 'invalid_event'; _msg := 'type is longer than 128 characters'; _detail := '{"field":"type"}';
    elsif jsonb_typeof(_e->'payload') is distinct from 'object' then
      _code := 'invalid_event'; _msg := 'payload must be a JSON object'; _detail := '{"field":"payload"}';
    elsif octet_length((_e->'payload')::text) > 262144 then
      _code := 'payload_too_large';
      _msg := format('payload is %s bytes, the limit is 262144', octet_length((_e->'payload')::text));
      _detail := jsonb_build_object('field', 'payload', 'limit', 262144, 'size', octet_length((_e->'payload')::text));
    elsif coalesce(jsonb_typeof(_e->'metadata'), 'null') not in ('object', 'null') then
      _code := 'invalid_event'; _msg := 'metadata must be a JSON object'; _detail := '{"field":"metadata"}';
    elsif octet_length((_e->'metadata')::text) > 16384 then
      _code := 'payload_too_large'; _msg := 'metadata is larger than 16384 bytes';
      _detail := '{"field":"metadata","limit":16384}';
    elsif coalesce(jsonb_typeof(_e->'refs'), 'null') not in ('object', 'array', 'null') then
      _code := 'invalid_event'; _msg := 'refs must be a JSON object or array'; _detail := '{"field":"refs"}';
    elsif octet_length((_e->'refs')::text) > 16384 then
      _code := 'payload_too_large'; _msg := 'refs is larger than 16384 bytes';
      _detail := '{"field":"refs","limit":16384}';
    elsif coalesce(jsonb_typeof(_e->'actor'), 'null') not in ('string', 'null') or char_length(_e->>'actor') > 256 then
      _code := 'invalid_event'; _msg := 'actor must be a string of at most 256 characters'; _detail := '{"field":"actor"}';
    elsif coalesce(jsonb_typeof(_e->'source'), 'null') not in ('string', 'null') or char_length(_e->>'source') > 256 then
      _code := 'invalid_event'; _msg := 'source must be a string of at most 256 characters'; _detail := '{"field":"source"}';
    elsif coalesce(jsonb_typeof(_e->'idempotency_key'), 'null') not in ('string', 'null')
          or char_length(_e->>'idempotency_key') > 256 or _e->>'idempotency_key' = '' then
      _code := 'invalid_event'; _msg := 'idempotency_key must be a non-empty string of at most 256 characters';
      _detail := '{"field":"idempotency_key"}';
    elsif coalesce(jsonb_typeof(_e->'producer_id'), 'null') not in ('string', 'null')
          or char_length(_e->>'producer_id') > 256 or _e->>'producer_id' = '' then
      _code := 'invalid_event'; _msg := 'producer_id must be a non-empty string of at most 256 characters';
      _detail := '{"field":"producer_id"}';
    elsif coalesce(jsonb_typeof(_e->'producer_seq'), 'null') <> 'null' and coalesce(_e->>'producer_seq', '') !~ '^[1-9][0-9]{0,17}$' then
      _code := 'invalid_event'; _msg := 'producer_seq must be an integer >= 1'; _detail := '{"field":"producer_seq"}';
    elsif (_e->>'producer_id' is null) <> (_e->>'producer_seq' is null) then
      _code := 'invalid_event'; _msg := 'producer_id and producer_seq must be given together';
      _detail := jsonb_build_object('field', case when _e->>'producer_id' is null then 'producer_id' else 'producer_seq' end);
    elsif coalesce(jsonb_typeof(_e->'expected_seq'), 'null') <> 'null' and coalesce(_e->>'expected_seq', '') !~ '^[0-9]{1,18}$' then
      _code := 'invalid_event'; _msg := 'expected_seq must be an integer >= 0'; _detail := '{"field":"expected_seq"}';
    else
      _si := array_position(_sids, _e->>'session_id');
      -- The session may be locked for another item of this call that names its tenant; this item must too.
      if _si is not null and _tids[_si] <> coalesce(_e->>'tenant_id', _tenant) then
        _si := null;
      end if;
      if _si is null then
        _code := 'session_not_found'; _msg := format('session %s does not exist', _e->>'session_id');
        _detail := jsonb_build_object('session_id', _e->>'session_id');
      end if;
    end if;

    if _code is null then
      _row.session_id := _sids[_si];
      _row.type := coalesce(_e->>'type', 'content');
      _row.payload := _e->'payload';
      _row.actor := _e->>'actor';
      _row.source := _e->>'source';
      _row.metadata := nullif(_e->'metadata', 'null');
      _row.refs := nullif(_e->'refs', 'null');
      _row.idempotency_key := _e->>'idempotency_key';
      _row.producer_id := _e->>'producer_id';
      _row.producer_seq := (_e->>'producer_seq')::bigint;

      -- Dedup by idempotency key: an earlier event with this key in this session wins.
      if _row.idempotency_key is not null then
        _ki := array_position(_keys, 'k' || chr(31) || _row.session_id || chr(31) || _row.idempotency_key);
        if _ki is not null then
          _found := _rows[_keyrows[_ki]];
        else
          select e.* into _found from starcite.events e
          where e.session_id = _row.session_id and e.idempotency_key = _row.idempotency_key;
        end if;
        if _found.seq is not null then
          if starcite.same_event_content(_found, _row) then
            _res.seq := _found.seq; _res.last_seq := _lasts[_si]; _res.deduped := true;
          else
            _code := 'idempotency_conflict';
            _msg := format('idempotency_key %s was already used for seq %s with different content',
                           _row.idempotency_key, _found.seq);
            _detail := jsonb_build_object('idempotency_key', _row.idempotency_key, 'seq', _found.seq);
          end if;
        end if;
      end if;

      -- Dedup by producer: producer_seq must continue the producer's run; an earlier one is a retry.
      if _code is null and not _res.deduped and _row.producer_id is not null then
        _pi := array_position(_pkeys, _row.session_id || chr(31) || _row.producer_id);
        if _pi is not null then
          _plast := _plasts[_pi];
        else
          select max(e.producer_seq) into _plast from starcite.events e
          where e.session_id = _row.session_id and e.producer_id = _row.producer_id;
        end if;

        if _plast is not null and _row.producer_seq <= _plast then
          _ki := array_position(_keys, 'p' || chr(31) || _row.session_id || chr(31) || _row.producer_id
                                       || chr(31) || _row.producer_seq);
          if _ki is not null then
            _found := _rows[_keyrows[_ki]];
          else
            select e.* into _found from starcite.events e
            where e.session_id = _row.session_id and e.producer_id = _row.producer_id
              and e.producer_seq = _row.producer_seq;
          end if;
          if _found.seq is null then
            -- Below the producer's first seq: it was never appended, so it cannot be a retry.
            _code := 'producer_seq_conflict';
            _msg := format('producer %s is at producer_seq %s; expected %s, got %s',
                           _row.producer_id, _plast, _plast + 1, _row.producer_seq);
            _detail := jsonb_build_object('producer_id', _row.producer_id, 'expected_producer_seq', _plast + 1,
                                          'producer_seq', _row.producer_seq, 'last_producer_seq', _plast);
          elsif starcite.same_event_content(_found, _row) then
            _res.seq := _found.seq; _res.last_seq := _lasts[_si]; _res.deduped := true;
          else
            _code := 'producer_replay_conflict';
            _msg := format('producer %s already appended producer_seq %s (seq %s) with different content',
                           _row.producer_id, _row.producer_seq, _found.seq);
            _detail := jsonb_build_object('producer_id', _row.producer_id, 'producer_seq', _row.producer_seq,
                                          'seq', _found.seq);
          end if;
        elsif _plast is not null and _row.producer_seq <> _plast + 1 then
          _code := 'producer_seq_conflict';
          _msg := format('producer %s is at producer_seq %s; expected %s, got %s',
                         _row.producer_id, _plast, _plast + 1, _row.producer_seq);
          _detail := jsonb_build_object('producer_id', _row.producer_id, 'expected_producer_seq', _plast + 1,
                                        'producer_seq', _row.producer_seq, 'last_producer_seq', _plast);
        end if;
      end if;

      -- Optimistic concurrency, checked after dedup so that a retried conditional append still dedupes.
      if _code is null and not _res.deduped and _e->>'expected_seq' is not null then
        _expected := (_e->>'expected_seq')::bigint;
        if _expected <> _lasts[_si] then
          _code := 'expected_seq_conflict';
          _msg := format('session %s is at seq %s, expected %s', _row.session_id, _lasts[_si], _expected);
          _detail := jsonb_build_object('session_id', _row.session_id, 'last_seq', _lasts[_si],
                                        'expected_seq', _expected);
        end if;
      end if;

      if _code is null and not _res.deduped then
        _lasts[_si] := _lasts[_si] + 1;
        _touched := true;
        _row.seq := _lasts[_si];
        _row.inserted_at := clock_timestamp();
        _rows := _rows || _row;
        if _row.idempotency_key is not null then
          _keys := _keys || ('k' || chr(31) || _row.session_id || chr(31) || _row.idempotency_key);
          _keyrows := _keyrows || cardinality(_rows);
        end if;
        if _row.producer_id is not null then
          _keys := _keys || ('p' || chr(31) || _row.session_id || chr(31) || _row.producer_id
                             || chr(31) || _row.producer_seq);
          _keyrows := _keyrows || cardinality(_rows);
          if _pi is not null then
            _plasts[_pi] := _row.producer_seq;
          else
            _pkeys := _pkeys || (_row.session_id || chr(31) || _row.producer_id);
            _plasts := _plasts || _row.producer_seq;
          end if;
        end if;
        _res.seq := _row.seq;
        _res.last_seq := _row.seq;
      end if;
    end if;

    if _code is not null then
      if atomic then
        perform starcite.raise_error(_code, _msg,
          coalesce(_detail, '{}') || jsonb_build_object('index', _i - 1));
      end if;
      _res.error_code := _code;
      _res.error_message := _code || ': ' || _msg;
      _res.error_detail := coalesce(_detail, '{}');
    end if;
    return next _res;
  end loop;

  if _touched then
    insert into starcite.events select * from unnest(_rows);
    update starcite.sessions s set last_seq = v.last_seq, updated_at = clock_timestamp()
    from unnest(_sids, _lasts) as v(id, last_seq)
    where s.id = v.id and s.last_seq <> v.last_seq;
  end if;
end
$$;

create function starcite.append(session_id text, type text, payload jsonb, actor text default null,
                                source text default null, metadata jsonb default null, refs jsonb default null,
                                idempotency_key text default null, producer_id text default null,
                                producer_seq bigint default null, expected_seq bigint default null)
returns table (seq bigint, last_seq bigint, deduped boolean)
language sql volatile as $$
  select r.seq, r.last_seq, r.deduped
  from starcite.append_items(
    jsonb_build_array(jsonb_build_object(
      'session_id', append.session_id, 'type', coalesce(append.type, ''), 'payload', append.payload,
      'actor', append.actor, 'source', append.source, 'metadata', append.metadata, 'refs', append.refs,
      'idempotency_key', append.idempotency_key, 'producer_id', append.producer_id,
      'producer_seq', append.producer_seq, 'expected_seq', append.expected_seq)),
    true) r
$$;

create function starcite.append_batch(session_id text, events jsonb, atomic boolean default false)
returns table (idx integer, seq bigint, last_seq bigint, deduped boolean, error_code text, error_message text)
language plpgsql volatile as $$
begin
  if events is null or jsonb_typeof(events) <> 'array' then
    perform starcite.raise_error('invalid_argument', 'events must be a JSON array', '{"field":"events"}');
  end if;
  return query
    select r.idx, r.seq, r.last_seq, r.deduped, r.error_code, r.error_message
    from starcite.append_items(
      (select coalesce(jsonb_agg(
                case when jsonb_typeof(e) = 'object'
                     then (e - 'tenant_id') || jsonb_build_object('session_id', append_batch.session_id)
                     else e end
                order by o), '[]')
       from jsonb_array_elements(events) with ordinality as x(e, o)),
      append_batch.atomic) r;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Reads
-- ---------------------------------------------------------------------------------------------

create function starcite.read(session_id text, after_seq bigint default 0, max_events integer default 100)
returns setof starcite.events
language plpgsql stable as $$
begin
  if after_seq is null or after_seq < 0 then
    perform starcite.raise_error('invalid_argument', 'after_seq must be >= 0', '{"field":"after_seq"}');
  end if;
  if max_events is null or max_events < 1 or max_events > 1000 then
    perform starcite.raise_error('invalid_argument', 'limit must be between 1 and 1000',
      '{"field":"limit","min":1,"max":1000}');
  end if;
  if not exists (select 1 from starcite.sessions s
                 where s.id = read.session_id and s.tenant_id = starcite.current_tenant()) then
    perform starcite.raise_error('session_not_found', format('session %s does not exist', read.session_id),
      jsonb_build_object('session_id', read.session_id));
  end if;
  return query
    select e.* from starcite.events e
    where e.session_id = read.session_id and e.seq > read.after_seq
    order by e.seq
    limit read.max_events;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Notifications: one small JSON hint per session per INSERT statement, on channel starcite_events.
-- Listeners must re-read from their cursor; the hint never carries event bodies.
-- ---------------------------------------------------------------------------------------------

create function starcite.tg_events__notify() returns trigger
language plpgsql as $$
begin
  perform pg_notify('starcite_events',
                    json_build_object('session_id', n.session_id, 'last_seq', max(n.seq))::text)
  from new_events n
  group by n.session_id;
  return null;
end
$$;

create trigger events_notify
  after insert on starcite.events
  referencing new table as new_events
  for each statement execute function starcite.tg_events__notify();

-- migrate:down

drop schema starcite cascade;
