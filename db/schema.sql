-- The starcite schema as the catalog holds it after every migration in db/migrations has run.
-- Written by `npm run db:schema` (and `npm run db:build`); a test fails when it drifts. Do not edit.
-- Functions appear by signature and a fingerprint of their body; each body is in db/functions/<name>.sql.

-- Schema

create schema starcite;
comment on schema starcite is 'starcite: durable, ordered session streams. See README.md for the SQL API.';

-- Types

create type starcite.api_key_info as (
  id text,
  tenant_id text,
  name text,
  key_prefix text,
  scopes text[],
  created_at timestamp with time zone,
  expires_at timestamp with time zone,
  revoked_at timestamp with time zone
);

create type starcite.append_error as (
  code text,
  message text,
  detail jsonb
);

create type starcite.append_facts as (
  key_prev integer,
  producer_prev integer,
  seq_prev integer,
  keyed_seq bigint,
  keyed_same boolean,
  producer_last bigint,
  repeated_seq bigint,
  repeated_same boolean
);

create type starcite.append_item as (
  idx integer,
  session_id text,
  tenant_id text,
  type text,
  payload jsonb,
  actor text,
  source text,
  metadata jsonb,
  refs jsonb,
  idempotency_key text,
  producer_id text,
  producer_seq bigint,
  expected_seq bigint,
  problem text
);

create type starcite.append_result as (
  idx integer,
  seq bigint,
  last_seq bigint,
  deduped boolean,
  error_code text,
  error_message text,
  error_detail jsonb
);

create type starcite.created_api_key as (
  id text,
  secret text,
  tenant_id text,
  name text,
  key_prefix text,
  scopes text[],
  created_at timestamp with time zone,
  expires_at timestamp with time zone
);

-- Tables

create table starcite.api_keys (
  id text not null,
  tenant_id text not null,
  name text not null,
  key_hash bytea not null,
  key_prefix text not null,
  scopes text[] not null,
  created_at timestamp with time zone not null default now(),
  expires_at timestamp with time zone,
  revoked_at timestamp with time zone,
  constraint api_keys_key_hash_key UNIQUE (key_hash),
  constraint api_keys_pkey PRIMARY KEY (id),
  constraint api_keys_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES starcite.tenants(id),
  constraint api_keys_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= starcite.limit_value('api_key_name_chars'::text)))),
  constraint api_keys_scopes_check CHECK (starcite.valid_scopes(scopes))
);
alter table starcite.api_keys enable row level security;
comment on table starcite.api_keys is 'API keys: tenant, name, scopes, expiry; the secret itself is never stored.';

create table starcite.events (
  session_id text not null,
  seq bigint not null,
  type text not null,
  payload jsonb not null,
  actor text,
  source text,
  metadata jsonb,
  refs jsonb,
  idempotency_key text,
  producer_id text,
  producer_seq bigint,
  inserted_at timestamp with time zone not null default clock_timestamp(),
  constraint events_pkey PRIMARY KEY (session_id, seq),
  constraint events_session_id_fkey FOREIGN KEY (session_id) REFERENCES starcite.sessions(id) ON DELETE CASCADE,
  constraint events_check CHECK (((producer_id IS NULL) = (producer_seq IS NULL))),
  constraint events_payload_check CHECK ((jsonb_typeof(payload) = 'object'::text)),
  constraint events_producer_seq_check CHECK ((producer_seq >= 1)),
  constraint events_seq_check CHECK ((seq >= 1)),
  constraint events_type_check CHECK ((type <> ''::text))
);
alter table starcite.events enable row level security;
comment on table starcite.events is 'The log: one row per appended event, seq gapless per session in commit order.';

create table starcite.sessions (
  id text not null,
  tenant_id text not null default 'default'::text,
  title text,
  metadata jsonb not null default '{}'::jsonb,
  last_seq bigint not null default 0,
  version bigint not null default 1,
  archived boolean not null default false,
  created_at timestamp with time zone not null default clock_timestamp(),
  updated_at timestamp with time zone not null default clock_timestamp(),
  constraint sessions_pkey PRIMARY KEY (id),
  constraint sessions_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES starcite.tenants(id),
  constraint sessions_last_seq_check CHECK ((last_seq >= 0)),
  constraint sessions_metadata_check CHECK ((jsonb_typeof(metadata) = 'object'::text))
);
alter table starcite.sessions enable row level security;
comment on table starcite.sessions is 'One row per session: its tenant, title, metadata and the counter row (last_seq) appends lock.';

create table starcite.tenants (
  id text not null,
  name text,
  created_at timestamp with time zone not null default now(),
  constraint tenants_pkey PRIMARY KEY (id),
  constraint tenants_id_check CHECK (starcite.valid_tenant_id(id))
);
alter table starcite.tenants enable row level security;
comment on table starcite.tenants is 'Tenants; every session and API key belongs to one.';

-- Row Level Security policies

create policy api_keys_tenant_isolation on starcite.api_keys
  as permissive for all to public
  using ((tenant_id = starcite.current_tenant()))
  with check ((tenant_id = starcite.current_tenant()));

create policy events_tenant_isolation on starcite.events
  as permissive for all to public
  using ((EXISTS ( SELECT 1
   FROM starcite.sessions s
  WHERE ((s.id = events.session_id) AND (s.tenant_id = starcite.current_tenant())))));

create policy sessions_tenant_isolation on starcite.sessions
  as permissive for all to public
  using ((tenant_id = starcite.current_tenant()))
  with check ((tenant_id = starcite.current_tenant()));

create policy tenants_tenant_isolation on starcite.tenants
  as permissive for all to public
  using ((id = starcite.current_tenant()))
  with check ((id = starcite.current_tenant()));

-- Indexes

CREATE INDEX api_keys_tenant_idx ON starcite.api_keys USING btree (tenant_id, created_at);

CREATE UNIQUE INDEX events_idempotency_idx ON starcite.events USING btree (session_id, idempotency_key) WHERE (idempotency_key IS NOT NULL);

CREATE UNIQUE INDEX events_producer_idx ON starcite.events USING btree (session_id, producer_id, producer_seq) WHERE (producer_id IS NOT NULL);

CREATE INDEX sessions_tenant_list_idx ON starcite.sessions USING btree (tenant_id, archived, id);

-- Functions

-- starcite.append(session_id text, type text, payload jsonb, actor text DEFAULT NULL::text, source text DEFAULT NULL::text, metadata jsonb DEFAULT NULL::jsonb, refs jsonb DEFAULT NULL::jsonb, idempotency_key text DEFAULT NULL::text, producer_id text DEFAULT NULL::text, producer_seq bigint DEFAULT NULL::bigint, expected_seq bigint DEFAULT NULL::bigint, tenant_id text DEFAULT NULL::text)
--   returns TABLE(seq bigint, last_seq bigint, deduped boolean); language plpgsql, volatile; body md5 088d3d73b6e2b6d870a8c87e0f6a0e49

-- starcite.append_batch(session_id text, events jsonb, atomic boolean DEFAULT false, tenant_id text DEFAULT NULL::text)
--   returns TABLE(idx integer, seq bigint, last_seq bigint, deduped boolean, error_code text, error_message text); language plpgsql, volatile; body md5 13c07eff7d0f25eec83c2a5ce2b6e335

-- starcite.append_items(items jsonb, atomic boolean DEFAULT false)
--   returns SETOF starcite.append_result; language plpgsql, volatile; body md5 f80973335c9d2014d9e39794968487a5

-- starcite.authenticate_api_key(secret text)
--   returns TABLE(key_id text, tenant_id text, scopes text[], expires_at timestamp with time zone); language plpgsql, stable; body md5 1e395af49ef49f959ff8085c83f65e06

-- starcite.check_event(type text, payload jsonb, actor text, source text, metadata jsonb, refs jsonb, idempotency_key text, producer_id text, producer_seq bigint, expected_seq bigint)
--   returns text; language sql, immutable, parallel safe; body md5 13d4b39052fe86aa49bb8c27fca511ab

-- starcite.check_item_json(item jsonb)
--   returns text; language sql, immutable, parallel safe; body md5 e4dddf3687dadcc72dc5e9b7c6444519

-- starcite.check_page_size(size integer, limit_name text)
--   returns void; language plpgsql, stable; body md5 b06cb6c34ca3b7e197d6f1a784df8c33

-- starcite.check_session_fields(title text, metadata jsonb)
--   returns void; language plpgsql, stable; body md5 b64e5421bd1e778ace81b511a990225d

-- starcite.create_api_key(tenant_id text, name text, scopes text[] DEFAULT starcite.default_key_scopes(), expires_at timestamp with time zone DEFAULT NULL::timestamp with time zone, creator_scopes text[] DEFAULT NULL::text[])
--   returns SETOF starcite.created_api_key; language plpgsql, volatile; body md5 fc300d4112581812d9f5ba01120b1139

-- starcite.create_session(id text DEFAULT NULL::text, title text DEFAULT NULL::text, metadata jsonb DEFAULT NULL::jsonb, tenant_id text DEFAULT NULL::text)
--   returns starcite.sessions; language plpgsql, volatile; body md5 d0f5f96f467b8e2f64502de0a91424fd

-- starcite.create_tenant(id text, name text DEFAULT NULL::text)
--   returns starcite.tenants; language plpgsql, volatile; body md5 bba5b0277fbfdaaafd2bde465dca223b

-- starcite.current_tenant()
--   returns text; language sql, stable, parallel safe; body md5 6c409c754dc7ccf1d4e3c18f69406a8e

-- starcite.decode_items(items jsonb, tenant_id text)
--   returns SETOF starcite.append_item; language sql, stable, parallel safe; body md5 af9917bff623f910980a153c9fa30616

-- starcite.default_key_scopes()
--   returns text[]; language sql, immutable, parallel safe; body md5 bc2873b32cfff6f273c41e945d6bf3b6

-- starcite.error_codes()
--   returns TABLE(code text, sqlstate text, http_status integer, description text); language sql, immutable, parallel safe; body md5 269c126c182e43809f7568d76113a220
comment on function starcite.error_codes() is 'Every error code with its SQLSTATE (null: raised by the server), HTTP status and meaning.';

-- starcite.error_sqlstate(code text)
--   returns text; language sql, immutable, parallel safe; body md5 85359658196fea302dc825328c0595fd

-- starcite.event_error(problem text, payload jsonb)
--   returns starcite.append_error; language sql, stable, parallel safe; body md5 3c3a0e25866dc4b3baa5b7795dd2385e

-- starcite.generate_session_id()
--   returns text; language sql, volatile; body md5 6fcbf114b542295cb53a44e9be351bb5

-- starcite.get_session(id text, tenant_id text DEFAULT NULL::text)
--   returns starcite.sessions; language sql, stable; body md5 dcaafcfba01a08898efdc3a4fed087a6

-- starcite.item_event(item starcite.append_item)
--   returns starcite.events; language sql, immutable, parallel safe; body md5 6445c64b99866fbab2c0ebb5be29b7a4

-- starcite.json_bigint(value jsonb)
--   returns bigint; language sql, immutable, parallel safe; body md5 e4d887844a5ead683c7e48c1fa2bb1bd

-- starcite.limit_value(name text)
--   returns bigint; language plpgsql, immutable, parallel safe; body md5 ea3c3ea91c304492a5c63c428c2ac5ce

-- starcite.limits()
--   returns TABLE(name text, value bigint, description text); language sql, immutable, parallel safe; body md5 60035191070cc7ce5429ec8b71e4530b
comment on function starcite.limits() is 'Every documented limit: its name, value and what it bounds.';

-- starcite.list_api_keys(tenant_id text DEFAULT NULL::text)
--   returns SETOF starcite.api_key_info; language sql, stable; body md5 8ab4782d9ed45e7563209f5dd8d8c122

-- starcite.list_sessions(max_sessions integer DEFAULT 100, after_id text DEFAULT NULL::text, archived boolean DEFAULT false, tenant_id text DEFAULT NULL::text)
--   returns SETOF starcite.sessions; language plpgsql, stable; body md5 74d3721572a5c14894d07cb5d76a700b

-- starcite.producer_seq_error(item starcite.append_item, last_producer_seq bigint)
--   returns starcite.append_error; language sql, stable, parallel safe; body md5 da71bcc98aa964db242fbda7a55e5c20

-- starcite.raise_error(code text, message text, detail jsonb DEFAULT '{}'::jsonb)
--   returns void; language plpgsql, volatile; body md5 ed6255b8c20c66ed7a9dfd0d3fd5c133

-- starcite.random_token(bytes_from_uuids integer DEFAULT 2)
--   returns text; language sql, volatile; body md5 d0e0a196df19e1fcf55cbf881d7b77d8

-- starcite.read(session_id text, after_seq bigint DEFAULT 0, max_events integer DEFAULT 100, tenant_id text DEFAULT NULL::text)
--   returns SETOF starcite.events; language plpgsql, stable; body md5 6531554a799cc531beb80989932846a9

-- starcite.read_json(session_id text, after_seq bigint, max_events integer, max_bytes integer, fields text[], keys text[], tenant_id text DEFAULT NULL::text)
--   returns TABLE(events text, n integer, last_seq bigint); language plpgsql, stable; body md5 71cb681a8d7322fb6d37f33ec8a35bc9

-- starcite.read_many(session_ids text[], after_seqs bigint[], max_events integer[], tenant_id text DEFAULT NULL::text)
--   returns SETOF starcite.events; language plpgsql, stable; body md5 e021a5338967d1222845895fd6da5a2a

-- starcite.resolve_tenant(tenant_id text)
--   returns text; language sql, stable, parallel safe; body md5 3f666c377d9e9ec1ab5e9c3891a402c2

-- starcite.revoke_api_key(id text, tenant_id text DEFAULT NULL::text)
--   returns SETOF starcite.api_key_info; language plpgsql, volatile; body md5 df1ecf6bb8904ed08f41f457caaf349b

-- starcite.same_event_content(a starcite.events, b starcite.events)
--   returns boolean; language sql, immutable, parallel safe; body md5 b25da17a56f46d60e11b2c6e7945aa98

-- starcite.scopes()
--   returns TABLE(name text, api_key_default boolean, session_token boolean, description text); language sql, immutable, parallel safe; body md5 d0302233d269c270fae7c4d0bf119b1f
comment on function starcite.scopes() is 'Every scope a credential can hold: a new key''s default, whether a session token may carry it, what it allows.';

-- starcite.tg_events__notify()
--   returns trigger; language plpgsql, volatile; body md5 82d823539b7bef610e14ddc1b0a8e9a0

-- starcite.tg_sessions__check()
--   returns trigger; language plpgsql, volatile; body md5 cd57a15268cf72648257f5a33f0178c1

-- starcite.update_session(id text, title text DEFAULT NULL::text, metadata jsonb DEFAULT NULL::jsonb, expected_version bigint DEFAULT NULL::bigint, archived boolean DEFAULT NULL::boolean, tenant_id text DEFAULT NULL::text)
--   returns starcite.sessions; language plpgsql, volatile; body md5 12b057c5fb273a4c7892ded671560b31

-- starcite.valid_scopes(scopes text[])
--   returns boolean; language sql, immutable, parallel safe; body md5 2009e237bf88c867abacb9313295a397

-- starcite.valid_session_id(id text)
--   returns boolean; language sql, immutable, parallel safe; body md5 150126b569b486743c092d74ef2bdeac

-- starcite.valid_tenant_id(id text)
--   returns boolean; language sql, immutable, parallel safe; body md5 a2fa9b7125218e611fdc7bef8aa16b8a

-- Triggers

CREATE TRIGGER events_notify AFTER INSERT ON starcite.events REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION starcite.tg_events__notify();

CREATE TRIGGER sessions_check BEFORE INSERT OR UPDATE OF id, title, metadata ON starcite.sessions FOR EACH ROW EXECUTE FUNCTION starcite.tg_sessions__check();
