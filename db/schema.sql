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

create type starcite.ds_stream_state as (
  session_id text,
  offset_epoch bigint,
  content_type text,
  ttl_seconds bigint,
  expires_at timestamp with time zone,
  tail_seq bigint,
  closed boolean
);

create type starcite.ds_wake as (
  tenant_id text,
  subscription_id text,
  type text,
  webhook_url text,
  base_url text,
  generation bigint,
  wake_id text,
  lease_ttl_ms integer,
  holder text,
  attempt integer,
  streams jsonb
);

create type starcite.event_text as (
  seq bigint,
  session_id text,
  type text,
  payload text,
  actor text,
  source text,
  metadata text,
  refs text,
  idempotency_key text,
  producer_id text,
  producer_seq bigint,
  inserted_at timestamp with time zone
);

create type starcite.retention_policy as (
  scope text,
  max_age interval,
  max_events bigint,
  archive boolean
);

create type starcite.webhook_delivery_request as (
  delivery_id text,
  url text,
  secret text,
  attempt integer,
  body jsonb
);

create type starcite.webhook_endpoint_info as (
  id text,
  tenant_id text,
  url text,
  session_ids text[],
  types text[],
  events boolean,
  lifecycle boolean,
  enabled boolean,
  changes_delivered bigint,
  created_at timestamp with time zone,
  updated_at timestamp with time zone
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

create table starcite.archive_segments (
  session_id text not null,
  from_seq bigint not null,
  to_seq bigint not null,
  object_key text not null,
  bytes bigint not null,
  archived_at timestamp with time zone not null default clock_timestamp(),
  constraint archive_segments_pkey PRIMARY KEY (session_id, from_seq),
  constraint archive_segments_session_id_fkey FOREIGN KEY (session_id) REFERENCES starcite.sessions(id) ON DELETE CASCADE,
  constraint archive_segments_bytes_check CHECK ((bytes >= 0)),
  constraint archive_segments_check CHECK ((to_seq >= from_seq)),
  constraint archive_segments_from_seq_check CHECK ((from_seq >= 1))
);
alter table starcite.archive_segments enable row level security;
comment on table starcite.archive_segments is 'Archived ranges of a session''s log: which object holds which seqs.';

create table starcite.change_counters (
  tenant_id text not null,
  last_seq bigint not null default 0,
  first_seq bigint not null default 1,
  constraint change_counters_pkey PRIMARY KEY (tenant_id),
  constraint change_counters_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES starcite.tenants(id) ON DELETE CASCADE,
  constraint change_counters_first_seq_check CHECK ((first_seq >= 1)),
  constraint change_counters_last_seq_check CHECK ((last_seq >= 0))
);
alter table starcite.change_counters enable row level security;
comment on table starcite.change_counters is 'Per tenant: the last session-change seq (the row changes lock) and the first one retained.';

create table starcite.ds_producers (
  session_id text not null,
  producer_id text not null,
  epoch bigint not null,
  last_seq bigint not null,
  updated_at timestamp with time zone not null default clock_timestamp(),
  constraint ds_producers_pkey PRIMARY KEY (session_id, producer_id),
  constraint ds_producers_session_id_fkey FOREIGN KEY (session_id) REFERENCES starcite.sessions(id) ON DELETE CASCADE,
  constraint ds_producers_epoch_check CHECK ((epoch >= 0)),
  constraint ds_producers_last_seq_check CHECK ((last_seq >= 0)),
  constraint ds_producers_producer_id_check CHECK ((producer_id <> ''::text))
);
alter table starcite.ds_producers enable row level security;
comment on table starcite.ds_producers is 'Durable Streams idempotent producers: epoch and last accepted seq per stream session and producer.';

create table starcite.ds_streams (
  id bigint not null,
  session_id text not null,
  tenant_id text not null,
  path text not null,
  incarnation integer not null,
  offset_epoch bigint not null,
  content_type text not null,
  ttl_seconds bigint,
  expires_at timestamp with time zone,
  last_access_at timestamp with time zone not null default now(),
  stream_seq text,
  closed_by jsonb,
  forked_from bigint,
  fork_seq bigint,
  fork_sub_offset bigint,
  deleted_at timestamp with time zone,
  created_at timestamp with time zone not null default clock_timestamp(),
  constraint ds_streams_path_incarnation_key UNIQUE (path, incarnation),
  constraint ds_streams_session_id_key UNIQUE (session_id),
  constraint ds_streams_pkey PRIMARY KEY (id),
  constraint ds_streams_forked_from_fkey FOREIGN KEY (forked_from) REFERENCES starcite.ds_streams(id),
  constraint ds_streams_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES starcite.tenants(id),
  constraint ds_streams_check CHECK (((ttl_seconds IS NULL) OR (expires_at IS NULL))),
  constraint ds_streams_check1 CHECK (((forked_from IS NULL) = (fork_seq IS NULL))),
  constraint ds_streams_content_type_check CHECK ((content_type <> ''::text)),
  constraint ds_streams_fork_seq_check CHECK ((fork_seq >= 0)),
  constraint ds_streams_fork_sub_offset_check CHECK ((fork_sub_offset >= 0)),
  constraint ds_streams_incarnation_check CHECK ((incarnation >= 1)),
  constraint ds_streams_offset_epoch_check CHECK ((offset_epoch >= 1)),
  constraint ds_streams_ttl_seconds_check CHECK ((ttl_seconds >= 0))
);
alter table starcite.ds_streams enable row level security;
comment on table starcite.ds_streams is 'Durable Streams: each incarnation of a stream path, its session and the protocol''s stream settings.';

create table starcite.ds_subscription_links (
  tenant_id text not null,
  subscription_id text not null,
  path text not null,
  explicit boolean not null default false,
  glob boolean not null default false,
  acked_epoch bigint,
  acked_seq bigint not null default 0,
  constraint ds_subscription_links_pkey PRIMARY KEY (tenant_id, subscription_id, path),
  constraint ds_subscription_links_tenant_id_subscription_id_fkey FOREIGN KEY (tenant_id, subscription_id) REFERENCES starcite.ds_subscriptions(tenant_id, id) ON DELETE CASCADE,
  constraint ds_subscription_links_acked_seq_check CHECK ((acked_seq >= 0)),
  constraint ds_subscription_links_check CHECK ((explicit OR glob))
);
alter table starcite.ds_subscription_links enable row level security;
comment on table starcite.ds_subscription_links is 'Durable Streams subscription links: a followed stream path and its acknowledged offset.';

create table starcite.ds_subscriptions (
  tenant_id text not null,
  id text not null,
  type text not null,
  pattern text,
  pattern_regex text,
  webhook_url text,
  wake_stream text,
  lease_ttl_ms integer not null,
  description text,
  config_hash text not null,
  base_url text not null,
  created_at timestamp with time zone not null default clock_timestamp(),
  generation bigint not null default 0,
  wake_id text,
  wake_state text not null default 'idle'::text,
  holder text,
  lease_until timestamp with time zone,
  wake_snapshot jsonb,
  attempts integer not null default 0,
  next_attempt_at timestamp with time zone,
  constraint ds_subscriptions_pkey PRIMARY KEY (tenant_id, id),
  constraint ds_subscriptions_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES starcite.tenants(id),
  constraint ds_subscriptions_check CHECK (((type <> 'webhook'::text) OR (webhook_url IS NOT NULL))),
  constraint ds_subscriptions_check1 CHECK (((type <> 'pull-wake'::text) OR (wake_stream IS NOT NULL))),
  constraint ds_subscriptions_check2 CHECK (((pattern IS NULL) = (pattern_regex IS NULL))),
  constraint ds_subscriptions_id_check CHECK (((char_length(id) >= 1) AND (char_length(id) <= 256))),
  constraint ds_subscriptions_lease_ttl_ms_check CHECK (((lease_ttl_ms >= 1000) AND (lease_ttl_ms <= 600000))),
  constraint ds_subscriptions_type_check CHECK ((type = ANY (ARRAY['webhook'::text, 'pull-wake'::text]))),
  constraint ds_subscriptions_wake_state_check CHECK ((wake_state = ANY (ARRAY['idle'::text, 'woken'::text, 'claimed'::text])))
);
alter table starcite.ds_subscriptions enable row level security;
comment on table starcite.ds_subscriptions is 'Durable Streams subscriptions: configuration and wake state (generation, lease, webhook retries).';

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
  body bytea,
  constraint events_pkey PRIMARY KEY (session_id, seq),
  constraint events_session_id_fkey FOREIGN KEY (session_id) REFERENCES starcite.sessions(id) ON DELETE CASCADE,
  constraint events_body_check CHECK ((octet_length(body) <= 8388608)),
  constraint events_check CHECK (((producer_id IS NULL) = (producer_seq IS NULL))),
  constraint events_payload_check CHECK ((jsonb_typeof(payload) = 'object'::text)),
  constraint events_producer_seq_check CHECK ((producer_seq >= 1)),
  constraint events_seq_check CHECK ((seq >= 1)),
  constraint events_type_check CHECK ((type <> ''::text))
);
alter table starcite.events enable row level security;
comment on table starcite.events is 'The log: one row per appended event, seq gapless per session in commit order.';

create table starcite.log_bounds (
  session_id text not null,
  first_seq bigint not null default 1,
  archived_from bigint,
  archived_through bigint not null default 0,
  constraint log_bounds_pkey PRIMARY KEY (session_id),
  constraint log_bounds_session_id_fkey FOREIGN KEY (session_id) REFERENCES starcite.sessions(id) ON DELETE CASCADE,
  constraint log_bounds_archived_from_check CHECK ((archived_from >= 1)),
  constraint log_bounds_archived_through_check CHECK ((archived_through >= 0)),
  constraint log_bounds_first_seq_check CHECK ((first_seq >= 1))
);
alter table starcite.log_bounds enable row level security;
comment on table starcite.log_bounds is 'Per session: the first seq still in Postgres and the archived range.';

create table starcite.retention_policies (
  tenant_id text not null,
  session_id text,
  max_age interval,
  max_events bigint,
  archive boolean not null default false,
  updated_at timestamp with time zone not null default clock_timestamp(),
  constraint retention_policies_session_id_fkey FOREIGN KEY (session_id) REFERENCES starcite.sessions(id) ON DELETE CASCADE,
  constraint retention_policies_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES starcite.tenants(id) ON DELETE CASCADE,
  constraint retention_policies_check CHECK (((max_age IS NOT NULL) OR (max_events IS NOT NULL))),
  constraint retention_policies_max_age_check CHECK ((max_age > '00:00:00'::interval)),
  constraint retention_policies_max_events_check CHECK ((max_events >= 1))
);
alter table starcite.retention_policies enable row level security;
comment on table starcite.retention_policies is 'Retention by age and/or count, per tenant (session_id null) or per session.';

create table starcite.session_changes (
  tenant_id text not null,
  seq bigint not null,
  session_id text not null,
  kind text not null,
  version bigint not null,
  archived boolean not null,
  changed_at timestamp with time zone not null default clock_timestamp(),
  constraint session_changes_pkey PRIMARY KEY (tenant_id, seq),
  constraint session_changes_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES starcite.tenants(id) ON DELETE CASCADE,
  constraint session_changes_kind_check CHECK ((kind = ANY (ARRAY['created'::text, 'updated'::text, 'archived'::text, 'unarchived'::text, 'deleted'::text]))),
  constraint session_changes_seq_check CHECK ((seq >= 1))
);
alter table starcite.session_changes enable row level security;
comment on table starcite.session_changes is 'Session lifecycle changes per tenant, seq gapless in commit order.';

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
  closed_at timestamp with time zone,
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

create table starcite.webhook_cursors (
  endpoint_id text not null,
  session_id text not null,
  delivered_seq bigint not null default 0,
  updated_at timestamp with time zone not null default clock_timestamp(),
  constraint webhook_cursors_pkey PRIMARY KEY (endpoint_id, session_id),
  constraint webhook_cursors_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES starcite.webhook_endpoints(id) ON DELETE CASCADE,
  constraint webhook_cursors_session_id_fkey FOREIGN KEY (session_id) REFERENCES starcite.sessions(id) ON DELETE CASCADE,
  constraint webhook_cursors_delivered_seq_check CHECK ((delivered_seq >= 0))
);
alter table starcite.webhook_cursors enable row level security;
comment on table starcite.webhook_cursors is 'Per endpoint and session: the last event seq delivered.';

create table starcite.webhook_deliveries (
  id text not null,
  endpoint_id text not null,
  session_id text,
  from_seq bigint not null,
  to_seq bigint not null,
  items integer not null,
  status text not null default 'pending'::text,
  attempts integer not null default 0,
  next_attempt_at timestamp with time zone not null default clock_timestamp(),
  last_attempt_at timestamp with time zone,
  last_status integer,
  last_error text,
  created_at timestamp with time zone not null default clock_timestamp(),
  delivered_at timestamp with time zone,
  constraint webhook_deliveries_pkey PRIMARY KEY (id),
  constraint webhook_deliveries_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES starcite.webhook_endpoints(id) ON DELETE CASCADE,
  constraint webhook_deliveries_check CHECK ((to_seq >= from_seq)),
  constraint webhook_deliveries_items_check CHECK ((items >= 1)),
  constraint webhook_deliveries_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'succeeded'::text])))
);
alter table starcite.webhook_deliveries enable row level security;
comment on table starcite.webhook_deliveries is 'Webhook deliveries: what was sent where, how often, and with what answer.';

create table starcite.webhook_endpoints (
  id text not null,
  tenant_id text not null,
  url text not null,
  secret text not null,
  session_ids text[],
  types text[],
  events boolean not null default true,
  lifecycle boolean not null default true,
  enabled boolean not null default true,
  changes_delivered bigint not null default 0,
  created_at timestamp with time zone not null default clock_timestamp(),
  updated_at timestamp with time zone not null default clock_timestamp(),
  constraint webhook_endpoints_pkey PRIMARY KEY (id),
  constraint webhook_endpoints_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES starcite.tenants(id) ON DELETE CASCADE,
  constraint webhook_endpoints_check CHECK ((events OR lifecycle)),
  constraint webhook_endpoints_session_ids_check CHECK (((cardinality(session_ids) >= 1) AND (cardinality(session_ids) <= starcite.limit_value('webhook_filter_items'::text)))),
  constraint webhook_endpoints_types_check CHECK (((cardinality(types) >= 1) AND (cardinality(types) <= starcite.limit_value('webhook_filter_items'::text)))),
  constraint webhook_endpoints_url_check CHECK (((url ~ '^https?://[^\s]+$'::text) AND (char_length(url) <= starcite.limit_value('webhook_url_chars'::text))))
);
alter table starcite.webhook_endpoints enable row level security;
comment on table starcite.webhook_endpoints is 'Webhook endpoints: URL, signing secret, filters, and the lifecycle cursor.';

-- Row Level Security policies

create policy api_keys_tenant_isolation on starcite.api_keys
  as permissive for all to public
  using ((tenant_id = starcite.current_tenant()))
  with check ((tenant_id = starcite.current_tenant()));

create policy archive_segments_tenant_isolation on starcite.archive_segments
  as permissive for all to public
  using ((EXISTS ( SELECT 1
   FROM starcite.sessions s
  WHERE ((s.id = archive_segments.session_id) AND (s.tenant_id = starcite.current_tenant())))));

create policy change_counters_tenant_isolation on starcite.change_counters
  as permissive for all to public
  using ((tenant_id = starcite.current_tenant()))
  with check ((tenant_id = starcite.current_tenant()));

create policy ds_producers_tenant_isolation on starcite.ds_producers
  as permissive for all to public
  using ((EXISTS ( SELECT 1
   FROM starcite.sessions s
  WHERE ((s.id = ds_producers.session_id) AND (s.tenant_id = starcite.current_tenant())))));

create policy ds_streams_tenant_isolation on starcite.ds_streams
  as permissive for all to public
  using ((tenant_id = starcite.current_tenant()))
  with check ((tenant_id = starcite.current_tenant()));

create policy ds_subscription_links_tenant_isolation on starcite.ds_subscription_links
  as permissive for all to public
  using ((tenant_id = starcite.current_tenant()))
  with check ((tenant_id = starcite.current_tenant()));

create policy ds_subscriptions_tenant_isolation on starcite.ds_subscriptions
  as permissive for all to public
  using ((tenant_id = starcite.current_tenant()))
  with check ((tenant_id = starcite.current_tenant()));

create policy events_tenant_isolation on starcite.events
  as permissive for all to public
  using ((EXISTS ( SELECT 1
   FROM starcite.sessions s
  WHERE ((s.id = events.session_id) AND (s.tenant_id = starcite.current_tenant())))));

create policy log_bounds_tenant_isolation on starcite.log_bounds
  as permissive for all to public
  using ((EXISTS ( SELECT 1
   FROM starcite.sessions s
  WHERE ((s.id = log_bounds.session_id) AND (s.tenant_id = starcite.current_tenant())))));

create policy retention_policies_tenant_isolation on starcite.retention_policies
  as permissive for all to public
  using ((tenant_id = starcite.current_tenant()))
  with check ((tenant_id = starcite.current_tenant()));

create policy session_changes_tenant_isolation on starcite.session_changes
  as permissive for all to public
  using ((tenant_id = starcite.current_tenant()))
  with check ((tenant_id = starcite.current_tenant()));

create policy sessions_tenant_isolation on starcite.sessions
  as permissive for all to public
  using ((tenant_id = starcite.current_tenant()))
  with check ((tenant_id = starcite.current_tenant()));

create policy tenants_tenant_isolation on starcite.tenants
  as permissive for all to public
  using ((id = starcite.current_tenant()))
  with check ((id = starcite.current_tenant()));

create policy webhook_cursors_tenant_isolation on starcite.webhook_cursors
  as permissive for all to public
  using ((EXISTS ( SELECT 1
   FROM starcite.webhook_endpoints w
  WHERE ((w.id = webhook_cursors.endpoint_id) AND (w.tenant_id = starcite.current_tenant())))));

create policy webhook_deliveries_tenant_isolation on starcite.webhook_deliveries
  as permissive for all to public
  using ((EXISTS ( SELECT 1
   FROM starcite.webhook_endpoints w
  WHERE ((w.id = webhook_deliveries.endpoint_id) AND (w.tenant_id = starcite.current_tenant())))));

create policy webhook_endpoints_tenant_isolation on starcite.webhook_endpoints
  as permissive for all to public
  using ((tenant_id = starcite.current_tenant()))
  with check ((tenant_id = starcite.current_tenant()));

-- Indexes

CREATE INDEX api_keys_tenant_idx ON starcite.api_keys USING btree (tenant_id, created_at);

CREATE INDEX ds_streams_forked_from_idx ON starcite.ds_streams USING btree (forked_from) WHERE (forked_from IS NOT NULL);

CREATE INDEX ds_subscription_links_path_idx ON starcite.ds_subscription_links USING btree (tenant_id, path);

CREATE INDEX ds_subscriptions_due_idx ON starcite.ds_subscriptions USING btree (LEAST(lease_until, next_attempt_at));

CREATE UNIQUE INDEX events_idempotency_idx ON starcite.events USING btree (session_id, idempotency_key) WHERE (idempotency_key IS NOT NULL);

CREATE UNIQUE INDEX events_producer_idx ON starcite.events USING btree (session_id, producer_id, producer_seq) WHERE (producer_id IS NOT NULL);

CREATE UNIQUE INDEX retention_policies_session_idx ON starcite.retention_policies USING btree (session_id) WHERE (session_id IS NOT NULL);

CREATE UNIQUE INDEX retention_policies_tenant_idx ON starcite.retention_policies USING btree (tenant_id) WHERE (session_id IS NULL);

CREATE INDEX sessions_tenant_list_idx ON starcite.sessions USING btree (tenant_id, archived, id);

CREATE INDEX webhook_cursors_session_idx ON starcite.webhook_cursors USING btree (session_id);

CREATE INDEX webhook_deliveries_endpoint_idx ON starcite.webhook_deliveries USING btree (endpoint_id, created_at DESC);

CREATE UNIQUE INDEX webhook_deliveries_pending_idx ON starcite.webhook_deliveries USING btree (endpoint_id, COALESCE(session_id, ''::text)) WHERE (status = 'pending'::text);

CREATE INDEX webhook_endpoints_tenant_idx ON starcite.webhook_endpoints USING btree (tenant_id, created_at);

-- Functions

-- starcite.append(session_id text, type text, payload jsonb, actor text DEFAULT NULL::text, source text DEFAULT NULL::text, metadata jsonb DEFAULT NULL::jsonb, refs jsonb DEFAULT NULL::jsonb, idempotency_key text DEFAULT NULL::text, producer_id text DEFAULT NULL::text, producer_seq bigint DEFAULT NULL::bigint, expected_seq bigint DEFAULT NULL::bigint, tenant_id text DEFAULT NULL::text)
--   returns TABLE(seq bigint, last_seq bigint, deduped boolean); language plpgsql, volatile; body md5 161aae11cec1b9f56bc4ae8ddc6bcb31

-- starcite.append_batch(session_id text, events jsonb, atomic boolean DEFAULT false, tenant_id text DEFAULT NULL::text)
--   returns TABLE(idx integer, seq bigint, last_seq bigint, deduped boolean, error_code text, error_message text); language plpgsql, volatile; body md5 13c07eff7d0f25eec83c2a5ce2b6e335

-- starcite.append_groups(groups jsonb)
--   returns TABLE(grp integer, idx integer, seq bigint, last_seq bigint, deduped boolean, error_code text, error_message text, error_detail jsonb); language plpgsql, volatile; body md5 3351b61e735e918a78bcfea027c350a5

-- starcite.append_items(items jsonb, atomic boolean DEFAULT false)
--   returns SETOF starcite.append_result; language plpgsql, volatile; body md5 28e997ee4e48332dac4399dd20b01171

-- starcite.archive_due(max_sessions integer DEFAULT 100)
--   returns TABLE(session_id text, tenant_id text); language sql, stable; body md5 b96b39a46430d761a9cde1c411c83ccf

-- starcite.archive_range(session_id text, max_events integer DEFAULT 1000)
--   returns TABLE(tenant_id text, from_seq bigint, to_seq bigint); language plpgsql, stable; body md5 74c682224ebd6085fb3e9f61ec89e888

-- starcite.archive_segment(session_id text, seq bigint, tenant_id text DEFAULT NULL::text)
--   returns SETOF starcite.archive_segments; language sql, stable; body md5 a724035dae94b77d0f9dcc598dd59393

-- starcite.authenticate_api_key(secret text)
--   returns TABLE(key_id text, tenant_id text, scopes text[], expires_at timestamp with time zone); language plpgsql, stable; body md5 1e395af49ef49f959ff8085c83f65e06

-- starcite.check_event(type text, payload jsonb, actor text, source text, metadata jsonb, refs jsonb, idempotency_key text, producer_id text, producer_seq bigint, expected_seq bigint)
--   returns text; language sql, immutable, parallel safe; body md5 13d4b39052fe86aa49bb8c27fca511ab

-- starcite.check_item_json(item jsonb)
--   returns text; language sql, immutable, parallel safe; body md5 e4dddf3687dadcc72dc5e9b7c6444519

-- starcite.check_page_size(size integer, limit_name text)
--   returns void; language plpgsql, stable; body md5 b06cb6c34ca3b7e197d6f1a784df8c33

-- starcite.check_read(session_id text, after_seq bigint, max_events integer, page_limit text, tenant_id text)
--   returns boolean; language plpgsql, stable; body md5 50a728cec8bfb1634bf9e2934cc2a56d

-- starcite.check_read_many(session_ids text[], after_seqs bigint[], max_events integer[])
--   returns boolean; language plpgsql, stable; body md5 5859d3e181e915513baee3d2dfd5fd1e

-- starcite.check_session_fields(title text, metadata jsonb)
--   returns void; language plpgsql, stable; body md5 b64e5421bd1e778ace81b511a990225d

-- starcite.check_webhook_fields(url text, session_ids text[], types text[], events boolean, lifecycle boolean)
--   returns void; language plpgsql, stable; body md5 3d1f63548a5ca618d5bff1de1f9f86cb

-- starcite.clear_retention(session_id text DEFAULT NULL::text, tenant_id text DEFAULT NULL::text)
--   returns boolean; language plpgsql, volatile; body md5 cafa0fe05f236207c7775851efba950b

-- starcite.create_api_key(tenant_id text, name text, scopes text[] DEFAULT starcite.default_key_scopes(), expires_at timestamp with time zone DEFAULT NULL::timestamp with time zone, creator_scopes text[] DEFAULT NULL::text[])
--   returns SETOF starcite.created_api_key; language plpgsql, volatile; body md5 fc300d4112581812d9f5ba01120b1139

-- starcite.create_session(id text DEFAULT NULL::text, title text DEFAULT NULL::text, metadata jsonb DEFAULT NULL::jsonb, tenant_id text DEFAULT NULL::text)
--   returns starcite.sessions; language plpgsql, volatile; body md5 d0f5f96f467b8e2f64502de0a91424fd

-- starcite.create_tenant(id text, name text DEFAULT NULL::text)
--   returns starcite.tenants; language plpgsql, volatile; body md5 bba5b0277fbfdaaafd2bde465dca223b

-- starcite.create_webhook_endpoint(url text, session_ids text[] DEFAULT NULL::text[], types text[] DEFAULT NULL::text[], events boolean DEFAULT true, lifecycle boolean DEFAULT true, tenant_id text DEFAULT NULL::text)
--   returns starcite.webhook_endpoints; language plpgsql, volatile; body md5 e667e12cc104b9c8fa1747b208e65f44

-- starcite.current_tenant()
--   returns text; language sql, stable, parallel safe; body md5 6c409c754dc7ccf1d4e3c18f69406a8e

-- starcite.decode_items(items jsonb, tenant_id text)
--   returns SETOF starcite.append_item; language sql, stable, parallel safe; body md5 af9917bff623f910980a153c9fa30616

-- starcite.default_key_scopes()
--   returns text[]; language sql, immutable, parallel safe; body md5 bc2873b32cfff6f273c41e945d6bf3b6

-- starcite.delete_session(id text, tenant_id text DEFAULT NULL::text)
--   returns starcite.sessions; language plpgsql, volatile; body md5 d618fa9d9dbeb8b3b3dad548e02d76b2

-- starcite.delete_webhook_endpoint(id text, tenant_id text DEFAULT NULL::text)
--   returns starcite.webhook_endpoint_info; language plpgsql, volatile; body md5 5832ac8ffe1d7e7892790fe60b45749a

-- starcite.ds_ack(id text, wake_id text, generation bigint, acks jsonb, done boolean, tenant_id text)
--   returns TABLE(next_wake boolean, wake starcite.ds_wake); language plpgsql, volatile; body md5 875cf1c51e045a31db8c2e7e6491e958

-- starcite.ds_append(path text, content_type text DEFAULT NULL::text, messages jsonb DEFAULT NULL::jsonb, body bytea DEFAULT NULL::bytea, stream_seq text DEFAULT NULL::text, producer_id text DEFAULT NULL::text, producer_epoch bigint DEFAULT NULL::bigint, producer_seq bigint DEFAULT NULL::bigint, close boolean DEFAULT false, actor text DEFAULT NULL::text, tenant_id text DEFAULT NULL::text)
--   returns TABLE(outcome text, state starcite.ds_stream_state, epoch bigint, last_producer_seq bigint); language plpgsql, volatile; body md5 95a4acea99a3a59119c9fa6a3130a917

-- starcite.ds_apply_acks(s starcite.ds_subscriptions, acks jsonb)
--   returns void; language plpgsql, volatile; body md5 32c57db39a3d518c0d19e3279e01df25

-- starcite.ds_check_path(path text)
--   returns void; language plpgsql, stable; body md5 5eb36287b4074ff86456f3da6a1b7707

-- starcite.ds_check_subscription_id(id text)
--   returns void; language plpgsql, immutable; body md5 4c3a397f38122d14b050b2de83dffe0b

-- starcite.ds_claim(id text, worker text, tenant_id text DEFAULT NULL::text)
--   returns starcite.ds_wake; language plpgsql, volatile; body md5 f9a1b5f127332bbdb94235ab232a433c

-- starcite.ds_create(path text, content_type text DEFAULT NULL::text, ttl_seconds bigint DEFAULT NULL::bigint, expires_at timestamp with time zone DEFAULT NULL::timestamp with time zone, closed boolean DEFAULT false, messages jsonb DEFAULT NULL::jsonb, body bytea DEFAULT NULL::bytea, fork_path text DEFAULT NULL::text, fork_epoch bigint DEFAULT NULL::bigint, fork_seq bigint DEFAULT NULL::bigint, fork_sub_offset bigint DEFAULT 0, actor text DEFAULT NULL::text, tenant_id text DEFAULT NULL::text)
--   returns TABLE(created boolean, state starcite.ds_stream_state); language plpgsql, volatile; body md5 3eb7c8ab190c0e33c16327b232f0e9a1

-- starcite.ds_delete(path text, tenant_id text DEFAULT NULL::text)
--   returns void; language plpgsql, volatile; body md5 e0b2f2d87d18972fc1f9fd0eee50fa96

-- starcite.ds_due_subscriptions(max_subscriptions integer DEFAULT 100)
--   returns TABLE(tenant_id text, subscription_id text); language sql, stable; body md5 5d5a8bd722e61f4cd9d88a63276c899e

-- starcite.ds_expired(ttl_seconds bigint, expires_at timestamp with time zone, last_access_at timestamp with time zone)
--   returns boolean; language sql, stable, parallel safe; body md5 b25dbaee995a7bac3ac1ad1551b8d32d

-- starcite.ds_fenced_subscription(id text, wake_id text, generation bigint, tenant_id text)
--   returns starcite.ds_subscriptions; language plpgsql, volatile; body md5 adf6fe742fd34dd288967ee0929ed1bc

-- starcite.ds_glob_regex(pattern text)
--   returns text; language sql, immutable, parallel safe; body md5 e411315853b30ed90054a555b341bac1

-- starcite.ds_has_live_fork(id bigint)
--   returns boolean; language sql, stable; body md5 b24d82d9eacd4ef5147663c3a8eda249

-- starcite.ds_insert(session_id text, content_type text, messages jsonb, body bytea, close boolean, actor text)
--   returns bigint; language plpgsql, volatile; body md5 b41e50f835f037119f3caef3b7c30611

-- starcite.ds_issue_wake(s starcite.ds_subscriptions)
--   returns starcite.ds_wake; language plpgsql, volatile; body md5 ca9e3ecf12930defc0130ee76386bc7e

-- starcite.ds_link_created(s starcite.ds_streams, acked_seq bigint)
--   returns void; language sql, volatile; body md5 85d919941960fac87adf3f3d4149882a

-- starcite.ds_link_streams(id text, paths text[], tenant_id text DEFAULT NULL::text)
--   returns void; language plpgsql, volatile; body md5 b7ca45634b15d77003944dc04d52734e

-- starcite.ds_link_tails(tenant_id text, subscription_id text)
--   returns TABLE(path text, link_type text, acked_epoch bigint, acked_seq bigint, tail_epoch bigint, tail_seq bigint, has_pending boolean); language sql, stable; body md5 717fe5bbef3b16bb77755e42880b27fc

-- starcite.ds_media_type(content_type text)
--   returns text; language sql, immutable, parallel safe; body md5 342b61475793de55bd8839ac69504d3b

-- starcite.ds_messages(document jsonb)
--   returns jsonb; language sql, immutable, parallel safe; body md5 f6645fc3f6397732eb27ecbc7b5f0ec5

-- starcite.ds_raise_unless_live(s starcite.ds_streams, path text, tenant_id text)
--   returns void; language plpgsql, stable; body md5 9d4b7d6d725498443052c15775d90128

-- starcite.ds_read(session_id text, after_seq bigint, max_events integer, max_bytes bigint, tenant_id text DEFAULT NULL::text)
--   returns SETOF starcite.events; language plpgsql, stable; body md5 00f9b19bb42066e1da76860d339b9517

-- starcite.ds_release(id text, wake_id text, generation bigint, tenant_id text)
--   returns SETOF starcite.ds_wake; language plpgsql, volatile; body md5 bb0ca42833c86df2eca0748e1ab3e9fd

-- starcite.ds_release_lease(s starcite.ds_subscriptions)
--   returns starcite.ds_wake; language plpgsql, volatile; body md5 65bc48fb8be9dbbf5b84975d7307e777

-- starcite.ds_resolve(path text, touch boolean DEFAULT true, tenant_id text DEFAULT NULL::text)
--   returns starcite.ds_stream_state; language plpgsql, volatile; body md5 aa2d61d2e580004ab523036c717aa511

-- starcite.ds_session_id(path text, incarnation integer)
--   returns text; language sql, stable, parallel safe; body md5 c9da5ad40aaf7651bf0044fba25a0b33

-- starcite.ds_settle(s starcite.ds_streams)
--   returns starcite.ds_streams; language plpgsql, volatile; body md5 6dba849af86fa4c7aa93f724d52d1c3a

-- starcite.ds_state(s starcite.ds_streams)
--   returns starcite.ds_stream_state; language plpgsql, stable; body md5 bb8750a4f90a420dee3196da5e4e7488

-- starcite.ds_stream_tail(tenant_id text, path text)
--   returns TABLE(offset_epoch bigint, tail_seq bigint); language sql, stable; body md5 49c0f9e8d05931a97d187ec8a01ce8b1

-- starcite.ds_subscribe(id text, type text, pattern text DEFAULT NULL::text, streams text[] DEFAULT NULL::text[], webhook_url text DEFAULT NULL::text, wake_stream text DEFAULT NULL::text, lease_ttl_ms integer DEFAULT 30000, description text DEFAULT NULL::text, base_url text DEFAULT ''::text, tenant_id text DEFAULT NULL::text)
--   returns boolean; language plpgsql, volatile; body md5 bd297cc46d2f9ec8e861db23ce403f70

-- starcite.ds_subscription(id text, tenant_id text DEFAULT NULL::text)
--   returns jsonb; language plpgsql, stable; body md5 50b5d4d78a724d42d231153739d9d44e

-- starcite.ds_sweep(max_streams integer DEFAULT 100)
--   returns integer; language plpgsql, volatile; body md5 bed726ff873f787e8fcfd5016f53c9b2

-- starcite.ds_tick(id text, tenant_id text)
--   returns SETOF starcite.ds_wake; language plpgsql, volatile; body md5 fba8b1b272e18e9ceb041cbbe9831825

-- starcite.ds_unlink_stream(id text, path text, tenant_id text DEFAULT NULL::text)
--   returns void; language plpgsql, volatile; body md5 f3681b89fdae2f03869eb067db5ef90a

-- starcite.ds_unsubscribe(id text, tenant_id text DEFAULT NULL::text)
--   returns void; language plpgsql, volatile; body md5 2148d21804246119f32e32ebc2352acf

-- starcite.ds_wake(id text, tenant_id text)
--   returns SETOF starcite.ds_wake; language plpgsql, volatile; body md5 a06a2950d3d80271dfc584058947c532

-- starcite.ds_wake_candidates(session_ids text[])
--   returns TABLE(tenant_id text, subscription_id text); language sql, stable; body md5 e42061ea12d8906259677b6b19470b22

-- starcite.ds_webhook_result(id text, wake_id text, generation bigint, delivered boolean, done boolean, tenant_id text)
--   returns SETOF starcite.ds_wake; language plpgsql, volatile; body md5 6b4a2e060e7cfce5448e2d5ceb219a18

-- starcite.error_codes()
--   returns TABLE(code text, sqlstate text, http_status integer, description text); language sql, immutable, parallel safe; body md5 18f840da9aa8d96e177c503a31ef7a4b
comment on function starcite.error_codes() is 'Every error code with its SQLSTATE (null: raised by the server), HTTP status and meaning.';

-- starcite.error_sqlstate(code text)
--   returns text; language sql, immutable, parallel safe; body md5 85359658196fea302dc825328c0595fd

-- starcite.event_error(problem text, payload jsonb)
--   returns starcite.append_error; language sql, stable, parallel safe; body md5 3c3a0e25866dc4b3baa5b7795dd2385e

-- starcite.expired_through(session_id text, from_seq bigint, max_scan integer)
--   returns bigint; language plpgsql, stable; body md5 d2352f24a8a1c50ae5154e46e8d8668d

-- starcite.generate_session_id()
--   returns text; language sql, volatile; body md5 6fcbf114b542295cb53a44e9be351bb5

-- starcite.get_retention(session_id text DEFAULT NULL::text, tenant_id text DEFAULT NULL::text)
--   returns starcite.retention_policy; language sql, stable; body md5 baa4e720b9eb11376943883b78c4b226

-- starcite.get_session(id text, tenant_id text DEFAULT NULL::text)
--   returns starcite.sessions; language plpgsql, stable; body md5 ef4473d0ed72ae9b08cb844feb96bc6f

-- starcite.item_event(item starcite.append_item)
--   returns starcite.events; language sql, immutable, parallel safe; body md5 54752f9602676aa1dc73bb0080dabc2e

-- starcite.json_bigint(value jsonb)
--   returns bigint; language sql, immutable, parallel safe; body md5 e4d887844a5ead683c7e48c1fa2bb1bd

-- starcite.last_change_seq(tenant_id text DEFAULT NULL::text)
--   returns bigint; language sql, stable; body md5 8b86f3491563d8c49431c746d7e8894b

-- starcite.limit_value(name text)
--   returns bigint; language plpgsql, immutable, parallel safe; body md5 ea3c3ea91c304492a5c63c428c2ac5ce

-- starcite.limits()
--   returns TABLE(name text, value bigint, description text); language sql, immutable, parallel safe; body md5 8ec4710096d2f13e44bcab1ab936f5e4
comment on function starcite.limits() is 'Every documented limit: its name, value and what it bounds.';

-- starcite.list_api_keys(tenant_id text DEFAULT NULL::text)
--   returns SETOF starcite.api_key_info; language sql, stable; body md5 8ab4782d9ed45e7563209f5dd8d8c122

-- starcite.list_sessions(max_sessions integer DEFAULT 100, after_id text DEFAULT NULL::text, archived boolean DEFAULT false, tenant_id text DEFAULT NULL::text)
--   returns SETOF starcite.sessions; language plpgsql, stable; body md5 74d3721572a5c14894d07cb5d76a700b

-- starcite.list_webhook_deliveries(endpoint_id text, status text DEFAULT NULL::text, max_deliveries integer DEFAULT 100, tenant_id text DEFAULT NULL::text)
--   returns SETOF starcite.webhook_deliveries; language plpgsql, stable; body md5 0afdf4f404918e6f6ed33a8644dcef9b

-- starcite.list_webhook_endpoints(tenant_id text DEFAULT NULL::text)
--   returns SETOF starcite.webhook_endpoint_info; language sql, stable; body md5 20683fd3027c2f66ee1c072ed0497708

-- starcite.payload_text(payload jsonb, body bytea)
--   returns text; language sql, stable, parallel safe; body md5 46ef208c2ad69bb472622ebcfe970216

-- starcite.producer_seq_error(item starcite.append_item, last_producer_seq bigint)
--   returns starcite.append_error; language sql, stable, parallel safe; body md5 da71bcc98aa964db242fbda7a55e5c20

-- starcite.raise_cursor_expired(session_id text, cursor bigint, bounds starcite.log_bounds)
--   returns void; language plpgsql, volatile; body md5 50b2abd28a2361de71dc4affc950cf2c

-- starcite.raise_error(code text, message text, detail jsonb DEFAULT '{}'::jsonb)
--   returns void; language plpgsql, volatile; body md5 ed6255b8c20c66ed7a9dfd0d3fd5c133

-- starcite.random_token(bytes_from_uuids integer DEFAULT 2)
--   returns text; language sql, volatile; body md5 d0e0a196df19e1fcf55cbf881d7b77d8

-- starcite.read(session_id text, after_seq bigint DEFAULT 0, max_events integer DEFAULT 100, tenant_id text DEFAULT NULL::text)
--   returns SETOF starcite.events; language sql, stable; body md5 a5a1e0069a41ed338133baa0d4a745ef

-- starcite.read_changes(after_seq bigint DEFAULT 0, max_changes integer DEFAULT 100, tenant_id text DEFAULT NULL::text)
--   returns SETOF starcite.session_changes; language plpgsql, stable; body md5 33b55207d447c8aa98459da51674b91b

-- starcite.read_json(session_id text, after_seq bigint, max_events integer, max_bytes integer, fields text[], keys text[], tenant_id text DEFAULT NULL::text)
--   returns TABLE(events text, n integer, last_seq bigint); language plpgsql, stable; body md5 8b7dbd0ad0a981f599418dc5f5203312

-- starcite.read_many(session_ids text[], after_seqs bigint[], max_events integer[], tenant_id text DEFAULT NULL::text)
--   returns SETOF starcite.events; language sql, stable; body md5 d9bc688eaba4030cb12e9c4f617e03bb

-- starcite.read_text(session_id text, after_seq bigint DEFAULT 0, max_events integer DEFAULT 100, tenant_id text DEFAULT NULL::text)
--   returns SETOF starcite.event_text; language sql, stable; body md5 813946bc64556b5217e451e3881d789d

-- starcite.record_archive_segment(session_id text, from_seq bigint, to_seq bigint, object_key text, bytes bigint)
--   returns boolean; language plpgsql, volatile; body md5 407a01c05b0ebaa83b56f38bb259b9b0

-- starcite.resolve_tenant(tenant_id text)
--   returns text; language sql, stable, parallel safe; body md5 3f666c377d9e9ec1ab5e9c3891a402c2

-- starcite.retention_due(max_sessions integer DEFAULT 100)
--   returns TABLE(session_id text, tenant_id text); language sql, stable; body md5 1e486adffac315e13992211efecbc53b

-- starcite.revoke_api_key(id text, tenant_id text DEFAULT NULL::text)
--   returns SETOF starcite.api_key_info; language plpgsql, volatile; body md5 df1ecf6bb8904ed08f41f457caaf349b

-- starcite.same_event_content(a starcite.events, b starcite.events)
--   returns boolean; language sql, immutable, parallel safe; body md5 b25da17a56f46d60e11b2c6e7945aa98

-- starcite.scopes()
--   returns TABLE(name text, api_key_default boolean, session_token boolean, description text); language sql, immutable, parallel safe; body md5 58c3e93dab218eef5ab5afc0540327f0
comment on function starcite.scopes() is 'Every scope a credential can hold: a new key''s default, whether a session token may carry it, what it allows.';

-- starcite.set_retention(max_age interval DEFAULT NULL::interval, max_events bigint DEFAULT NULL::bigint, archive boolean DEFAULT false, session_id text DEFAULT NULL::text, tenant_id text DEFAULT NULL::text)
--   returns starcite.retention_policy; language plpgsql, volatile; body md5 b8df057ad93b44917f9de0a105f92fba

-- starcite.tg_events__notify()
--   returns trigger; language plpgsql, volatile; body md5 82d823539b7bef610e14ddc1b0a8e9a0

-- starcite.tg_sessions__check()
--   returns trigger; language plpgsql, volatile; body md5 cd57a15268cf72648257f5a33f0178c1

-- starcite.tg_sessions__record_change()
--   returns trigger; language plpgsql, volatile; body md5 c366dc42782c712ec1b41acfe56455c4

-- starcite.trim_changes(tenant_id text, max_changes integer DEFAULT 1000)
--   returns bigint; language plpgsql, volatile; body md5 bd93220fc2ee59a0709faf9f16a5eeca

-- starcite.trim_session(session_id text, max_events integer DEFAULT 1000)
--   returns TABLE(deleted bigint, first_seq bigint, more boolean); language plpgsql, volatile; body md5 ec6b32ceae666044a8b7f96aadcea925

-- starcite.update_session(id text, title text DEFAULT NULL::text, metadata jsonb DEFAULT NULL::jsonb, expected_version bigint DEFAULT NULL::bigint, archived boolean DEFAULT NULL::boolean, tenant_id text DEFAULT NULL::text)
--   returns starcite.sessions; language plpgsql, volatile; body md5 12b057c5fb273a4c7892ded671560b31

-- starcite.update_webhook_endpoint(id text, url text DEFAULT NULL::text, session_ids text[] DEFAULT NULL::text[], types text[] DEFAULT NULL::text[], events boolean DEFAULT NULL::boolean, lifecycle boolean DEFAULT NULL::boolean, enabled boolean DEFAULT NULL::boolean, clear_sessions boolean DEFAULT false, clear_types boolean DEFAULT false, tenant_id text DEFAULT NULL::text)
--   returns starcite.webhook_endpoint_info; language plpgsql, volatile; body md5 d41602041880b95c1363ea49638d175f

-- starcite.valid_scopes(scopes text[])
--   returns boolean; language sql, immutable, parallel safe; body md5 2009e237bf88c867abacb9313295a397

-- starcite.valid_session_id(id text)
--   returns boolean; language sql, immutable, parallel safe; body md5 150126b569b486743c092d74ef2bdeac

-- starcite.valid_tenant_id(id text)
--   returns boolean; language sql, immutable, parallel safe; body md5 a2fa9b7125218e611fdc7bef8aa16b8a

-- starcite.webhook_backoff(attempts integer, base_ms integer DEFAULT 1000, max_ms integer DEFAULT 3600000)
--   returns interval; language sql, volatile; body md5 3f490c5561ab9a2206a40484ba63a4d8

-- starcite.webhook_delivery_result(delivery_id text, ok boolean, status integer DEFAULT NULL::integer, error text DEFAULT NULL::text, base_ms integer DEFAULT 1000, max_ms integer DEFAULT 3600000)
--   returns SETOF starcite.webhook_deliveries; language plpgsql, volatile; body md5 a96a2a9579a0316ebf35b4baffaaf896

-- starcite.webhook_due_sessions(endpoint_id text, max_sessions integer DEFAULT 100)
--   returns TABLE(session_id text); language sql, stable; body md5 a4de99302a0be105b1a6bc570304c668

-- starcite.webhook_endpoint_ids()
--   returns SETOF text; language sql, stable; body md5 4381686bffd2f42a03c6c3a5d56825a9

-- starcite.webhook_endpoint_info(w starcite.webhook_endpoints)
--   returns starcite.webhook_endpoint_info; language sql, immutable; body md5 769cfe2519e62325ea8f1c7ba6e4b400

-- starcite.webhook_endpoints_due(endpoint_ids text[])
--   returns TABLE(endpoint_id text, changes_due boolean); language sql, stable; body md5 342a2fbe0084e31c4ea67e96fa478075

-- starcite.webhook_event_json(e starcite.events)
--   returns jsonb; language sql, immutable; body md5 7331c5d27de0d9ab7b6d0f11523ac803

-- starcite.webhook_next_delivery(endpoint_id text, session_id text DEFAULT NULL::text, max_items integer DEFAULT 100)
--   returns SETOF starcite.webhook_delivery_request; language plpgsql, volatile; body md5 47c280dd94f3d5f165a2f6006365bc04

-- Triggers

CREATE TRIGGER events_notify AFTER INSERT ON starcite.events REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION starcite.tg_events__notify();

CREATE TRIGGER sessions_changes AFTER INSERT OR DELETE OR UPDATE OF title, metadata, archived, version ON starcite.sessions FOR EACH ROW EXECUTE FUNCTION starcite.tg_sessions__record_change();

CREATE TRIGGER sessions_check BEFORE INSERT OR UPDATE OF id, title, metadata ON starcite.sessions FOR EACH ROW EXECUTE FUNCTION starcite.tg_sessions__check();
