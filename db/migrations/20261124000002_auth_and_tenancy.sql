-- migrate:up

-- Tenancy for direct SQL callers and the server alike: every public function takes an optional trailing
-- tenant_id (null: the setting starcite.tenant_id, else 'default'). Adding a parameter changes a
-- function's identity, so each is dropped and recreated whole. API keys live here too, stored only as
-- SHA-256 hashes of high-entropy secrets.

create or replace function starcite.error_sqlstate(code text) returns text
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
    when 'unauthorized'             then 'SC300'
    when 'forbidden_scope'          then 'SC301'
    when 'token_expired'            then 'SC302'
    when 'forbidden_actor'          then 'SC303'
    when 'key_not_found'            then 'SC304'
    else 'SC000'
  end
$$;

create function starcite.resolve_tenant(tenant_id text) returns text
language sql stable parallel safe as $$
  select coalesce(resolve_tenant.tenant_id, starcite.current_tenant())
$$;

-- Sessions ----------------------------------------------------------------------------------------

drop function starcite.create_session(text, text, jsonb);
create function starcite.create_session(id text default null, title text default null, metadata jsonb default null,
                                        tenant_id text default null)
returns starcite.sessions
language plpgsql volatile as $$
declare
  _id text := coalesce(create_session.id, starcite.generate_session_id());
  _tenant text := starcite.resolve_tenant(create_session.tenant_id);
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
  if not exists (select 1 from starcite.tenants t where t.id = _tenant) then
    perform starcite.raise_error('invalid_argument', format('tenant %s does not exist', _tenant),
      jsonb_build_object('field', 'tenant_id'));
  end if;

  insert into starcite.sessions (id, tenant_id, title, metadata)
  values (_id, _tenant, create_session.title, coalesce(create_session.metadata, '{}'))
  on conflict on constraint sessions_pkey do nothing
  returning * into _row;

  if _row.id is null then
    -- Session ids are global; a taken id is reported the same way whichever tenant holds it.
    perform starcite.raise_error('session_exists', format('session %s already exists', _id),
      jsonb_build_object('session_id', _id));
  end if;
  return _row;
end
$$;

drop function starcite.get_session(text);
create function starcite.get_session(id text, tenant_id text default null) returns starcite.sessions
language sql stable as $$
  select s.* from starcite.sessions s
  where s.id = get_session.id and s.tenant_id = starcite.resolve_tenant(get_session.tenant_id)
$$;

drop function starcite.list_sessions(integer, text, boolean);
create function starcite.list_sessions(max_sessions integer default 100, after_id text default null,
                                       archived boolean default false, tenant_id text default null)
returns setof starcite.sessions
language plpgsql stable as $$
begin
  if max_sessions is null or max_sessions < 1 or max_sessions > 1000 then
    perform starcite.raise_error('invalid_argument', 'limit must be between 1 and 1000',
      jsonb_build_object('field', 'limit', 'min', 1, 'max', 1000));
  end if;
  return query
    select s.* from starcite.sessions s
    where s.tenant_id = starcite.resolve_tenant(list_sessions.tenant_id)
      and s.archived = coalesce(list_sessions.archived, false)
      and (list_sessions.after_id is null or s.id > list_sessions.after_id)
    order by s.id
    limit list_sessions.max_sessions;
end
$$;

drop function starcite.update_session(text, text, jsonb, bigint, boolean);
create function starcite.update_session(id text, title text default null, metadata jsonb default null,
                                        expected_version bigint default null, archived boolean default null,
                                        tenant_id text default null)
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
  where s.id = update_session.id and s.tenant_id = starcite.resolve_tenant(update_session.tenant_id)
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

-- Appends -----------------------------------------------------------------------------------------

drop function starcite.append(text, text, jsonb, text, text, jsonb, jsonb, text, text, bigint, bigint);
create function starcite.append(session_id text, type text, payload jsonb, actor text default null,
                                source text default null, metadata jsonb default null, refs jsonb default null,
                                idempotency_key text default null, producer_id text default null,
                                producer_seq bigint default null, expected_seq bigint default null,
                                tenant_id text default null)
returns table (seq bigint, last_seq bigint, deduped boolean)
language sql volatile as $$
  select r.seq, r.last_seq, r.deduped
  from starcite.append_items(
    jsonb_build_array(jsonb_build_object(
      'session_id', append.session_id, 'type', coalesce(append.type, ''), 'payload', append.payload,
      'actor', append.actor, 'source', append.source, 'metadata', append.metadata, 'refs', append.refs,
      'idempotency_key', append.idempotency_key, 'producer_id', append.producer_id,
      'producer_seq', append.producer_seq, 'expected_seq', append.expected_seq,
      'tenant_id', starcite.resolve_tenant(append.tenant_id))),
    true) r
$$;

drop function starcite.append_batch(text, jsonb, boolean);
create function starcite.append_batch(session_id text, events jsonb, atomic boolean default false,
                                      tenant_id text default null)
returns table (idx integer, seq bigint, last_seq bigint, deduped boolean, error_code text, error_message text)
language plpgsql volatile as $$
declare
  _tenant text := starcite.resolve_tenant(append_batch.tenant_id);
begin
  if events is null or jsonb_typeof(events) <> 'array' then
    perform starcite.raise_error('invalid_argument', 'events must be a JSON array', '{"field":"events"}');
  end if;
  return query
    select r.idx, r.seq, r.last_seq, r.deduped, r.error_code, r.error_message
    from starcite.append_items(
      (select coalesce(jsonb_agg(
                case when jsonb_typeof(e) = 'object'
                     then e || jsonb_build_object('session_id', append_batch.session_id, 'tenant_id', _tenant)
                     else e end
                order by o), '[]')
       from jsonb_array_elements(events) with ordinality as x(e, o)),
      append_batch.atomic) r;
end
$$;

-- Reads -------------------------------------------------------------------------------------------

drop function starcite.read(text, bigint, integer);
create function starcite.read(session_id text, after_seq bigint default 0, max_events integer default 100,
                              tenant_id text default null)
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
                 where s.id = read.session_id and s.tenant_id = starcite.resolve_tenant(read.tenant_id)) then
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

-- Tenants and API keys ----------------------------------------------------------------------------

create function starcite.create_tenant(id text, name text default null) returns starcite.tenants
language plpgsql volatile as $$
declare
  _row starcite.tenants;
begin
  if create_tenant.id is null or create_tenant.id !~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' then
    perform starcite.raise_error('invalid_argument',
      'tenant id must be 1-64 characters of [A-Za-z0-9_.-], starting with a letter or digit', '{"field":"tenant_id"}');
  end if;
  insert into starcite.tenants (id, name) values (create_tenant.id, create_tenant.name)
  on conflict on constraint tenants_pkey do update set name = coalesce(excluded.name, starcite.tenants.name)
  returning * into _row;
  return _row;
end
$$;

create table starcite.api_keys (
  id         text primary key,
  tenant_id  text not null references starcite.tenants (id),
  name       text not null check (char_length(name) between 1 and 200),
  key_hash   bytea not null unique,
  -- The secret's first characters, so a key can be recognised in listings without storing it.
  key_prefix text not null,
  scopes     text[] not null
             check (scopes <@ array['session:create', 'session:read', 'session:append', 'keys:admin', 'admin']),
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  revoked_at timestamptz
);

create index api_keys_tenant_idx on starcite.api_keys (tenant_id, created_at);

-- Result shapes of the key functions (composite types, so that parameters may be named tenant_id too).
create type starcite.api_key_info as (
  id text, tenant_id text, name text, key_prefix text, scopes text[],
  created_at timestamptz, expires_at timestamptz, revoked_at timestamptz
);
create type starcite.created_api_key as (
  id text, secret text, tenant_id text, name text, key_prefix text, scopes text[],
  created_at timestamptz, expires_at timestamptz
);

create function starcite.random_token(bytes_from_uuids integer default 2) returns text
language sql volatile as $$
  select rtrim(translate(encode(string_agg(uuid_send(gen_random_uuid()), ''::bytea), 'base64'), '+/', '-_'), '=')
  from generate_series(1, bytes_from_uuids)
$$;

-- Returns the secret exactly once; only its SHA-256 is stored. Creates the tenant if it is new.
create function starcite.create_api_key(tenant_id text, name text,
                                        scopes text[] default array['session:create', 'session:read', 'session:append'],
                                        expires_at timestamptz default null)
returns setof starcite.created_api_key
language plpgsql volatile as $$
declare
  _secret text := 'sk_' || starcite.random_token(2);
  _id text := 'key_' || left(starcite.random_token(1), 16);
  _bad text[];
begin
  if create_api_key.name is null or char_length(create_api_key.name) not between 1 and 200 then
    perform starcite.raise_error('invalid_argument', 'name must be 1-200 characters', '{"field":"name"}');
  end if;
  select array_agg(s) into _bad from unnest(coalesce(create_api_key.scopes, '{}')) s
  where s <> all (array['session:create', 'session:read', 'session:append', 'keys:admin', 'admin']);
  if _bad is not null or coalesce(cardinality(create_api_key.scopes), 0) = 0 then
    perform starcite.raise_error('invalid_argument',
      format('scopes must be a non-empty subset of session:create, session:read, session:append, keys:admin, admin; got %s',
             coalesce(array_to_string(create_api_key.scopes, ', '), 'none')),
      '{"field":"scopes"}');
  end if;
  if create_api_key.expires_at is not null and create_api_key.expires_at <= now() then
    perform starcite.raise_error('invalid_argument', 'expires_at must be in the future', '{"field":"expires_at"}');
  end if;
  perform starcite.create_tenant(create_api_key.tenant_id);

  return query
    insert into starcite.api_keys (id, tenant_id, name, key_hash, key_prefix, scopes, expires_at)
    values (_id, create_api_key.tenant_id, create_api_key.name, sha256(convert_to(_secret, 'UTF8')),
            left(_secret, 11), (select array_agg(distinct s order by s) from unnest(create_api_key.scopes) s),
            create_api_key.expires_at)
    returning api_keys.id, _secret, api_keys.tenant_id, api_keys.name, api_keys.key_prefix, api_keys.scopes,
              api_keys.created_at, api_keys.expires_at;
end
$$;

-- The one way a secret becomes a principal: unknown, revoked and expired keys are all `unauthorized`.
create function starcite.authenticate_api_key(secret text)
returns table (key_id text, tenant_id text, scopes text[], expires_at timestamptz)
language plpgsql stable as $$
declare
  _key starcite.api_keys;
begin
  select k.* into _key from starcite.api_keys k where k.key_hash = sha256(convert_to(authenticate_api_key.secret, 'UTF8'));
  if _key.id is null then
    perform starcite.raise_error('unauthorized', 'unknown API key');
  elsif _key.revoked_at is not null then
    perform starcite.raise_error('unauthorized', format('API key %s was revoked', _key.id), jsonb_build_object('key_id', _key.id));
  elsif _key.expires_at is not null and _key.expires_at <= now() then
    perform starcite.raise_error('unauthorized', format('API key %s has expired', _key.id), jsonb_build_object('key_id', _key.id));
  end if;
  return query select _key.id, _key.tenant_id, _key.scopes, _key.expires_at;
end
$$;

create function starcite.list_api_keys(tenant_id text default null)
returns setof starcite.api_key_info
language sql stable as $$
  select k.id, k.tenant_id, k.name, k.key_prefix, k.scopes, k.created_at, k.expires_at, k.revoked_at
  from starcite.api_keys k
  where list_api_keys.tenant_id is null or k.tenant_id = list_api_keys.tenant_id
  order by k.tenant_id, k.created_at, k.id
$$;

-- With tenant_id, only that tenant's key can be revoked (another tenant's key is key_not_found).
create function starcite.revoke_api_key(id text, tenant_id text default null)
returns setof starcite.api_key_info
language plpgsql volatile as $$
begin
  return query
    update starcite.api_keys k set revoked_at = coalesce(k.revoked_at, now())
    where k.id = revoke_api_key.id and (revoke_api_key.tenant_id is null or k.tenant_id = revoke_api_key.tenant_id)
    returning k.id, k.tenant_id, k.name, k.key_prefix, k.scopes, k.created_at, k.expires_at, k.revoked_at;
  if not found then
    perform starcite.raise_error('key_not_found', format('API key %s does not exist', revoke_api_key.id),
      jsonb_build_object('key_id', revoke_api_key.id));
  end if;
end
$$;

-- migrate:down

drop function starcite.revoke_api_key(text, text);
drop function starcite.list_api_keys(text);
drop function starcite.authenticate_api_key(text);
drop function starcite.create_api_key(text, text, text[], timestamptz);
drop function starcite.random_token(integer);
drop table starcite.api_keys;
drop type starcite.created_api_key;
drop type starcite.api_key_info;
drop function starcite.create_tenant(text, text);

drop function starcite.read(text, bigint, integer, text);
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

drop function starcite.append_batch(text, jsonb, boolean, text);
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

drop function starcite.append(text, text, jsonb, text, text, jsonb, jsonb, text, text, bigint, bigint, text);
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

drop function starcite.update_session(text, text, jsonb, bigint, boolean, text);
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

drop function starcite.list_sessions(integer, text, boolean, text);
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

drop function starcite.get_session(text, text);
create function starcite.get_session(id text) returns starcite.sessions
language sql stable as $$
  select s.* from starcite.sessions s
  where s.id = get_session.id and s.tenant_id = starcite.current_tenant()
$$;

drop function starcite.create_session(text, text, jsonb, text);
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

drop function starcite.resolve_tenant(text);

create or replace function starcite.error_sqlstate(code text) returns text
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
