-- The starcite schema as the catalog holds it after every migration in db/migrations has run.
-- Written by `npm run db:schema` (and `npm run db:build`); a test fails when it drifts. Do not edit.

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

CREATE OR REPLACE FUNCTION starcite.append(session_id text, type text, payload jsonb, actor text DEFAULT NULL::text, source text DEFAULT NULL::text, metadata jsonb DEFAULT NULL::jsonb, refs jsonb DEFAULT NULL::jsonb, idempotency_key text DEFAULT NULL::text, producer_id text DEFAULT NULL::text, producer_seq bigint DEFAULT NULL::bigint, expected_seq bigint DEFAULT NULL::bigint, tenant_id text DEFAULT NULL::text)
 RETURNS TABLE(seq bigint, last_seq bigint, deduped boolean)
 LANGUAGE plpgsql
AS $function$
declare
  _tenant text := starcite.resolve_tenant(append.tenant_id);
  _last bigint;
  _plast bigint;
begin
  if append.idempotency_key is null and append.expected_seq is null
     and starcite.check_event(append.type, append.payload, append.actor, append.source, append.metadata,
                              append.refs, null, append.producer_id, append.producer_seq, null) is null then
    update starcite.sessions s set last_seq = s.last_seq + 1, updated_at = clock_timestamp()
    where s.id = append.session_id and s.tenant_id = _tenant
    returning s.last_seq into _last;

    if _last is not null and append.producer_id is not null then
      -- Under the lock: is this the producer's next seq (or its first)?
      select max(e.producer_seq) into _plast from starcite.events e
      where e.session_id = append.session_id and e.producer_id = append.producer_id;
      if _plast is not null and append.producer_seq <> _plast + 1 then
        -- A retry or a conflict: give back the seq and let the engine decide.
        update starcite.sessions s set last_seq = s.last_seq - 1 where s.id = append.session_id;
        _last := null;
      end if;
    end if;

    if _last is not null then
      insert into starcite.events (session_id, seq, type, payload, actor, source, metadata, refs, producer_id, producer_seq)
      values (append.session_id, _last, append.type, append.payload, append.actor, append.source,
              nullif(append.metadata, 'null'), nullif(append.refs, 'null'), append.producer_id, append.producer_seq);
      seq := _last;
      last_seq := _last;
      deduped := false;
      return next;
      return;
    end if;
  end if;

  return query
    select r.seq, r.last_seq, r.deduped
    from starcite.append_items(
      jsonb_build_array(jsonb_build_object(
        'session_id', append.session_id, 'type', coalesce(append.type, ''), 'payload', append.payload,
        'actor', append.actor, 'source', append.source, 'metadata', append.metadata, 'refs', append.refs,
        'idempotency_key', append.idempotency_key, 'producer_id', append.producer_id,
        'producer_seq', append.producer_seq, 'expected_seq', append.expected_seq, 'tenant_id', _tenant)),
      true) r;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.append_batch(session_id text, events jsonb, atomic boolean DEFAULT false, tenant_id text DEFAULT NULL::text)
 RETURNS TABLE(idx integer, seq bigint, last_seq bigint, deduped boolean, error_code text, error_message text)
 LANGUAGE plpgsql
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION starcite.append_items(items jsonb, atomic boolean DEFAULT false)
 RETURNS SETOF starcite.append_result
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_generic_plan'
AS $function$
declare
  _n             integer;
  _items         starcite.append_item[];   -- decoded and checked, by idx
  _rows          tid[];                    -- the locked sessions' rows (the lock keeps them in place),
  _lasts         bigint[];                 -- and their running last_seq, in session id order
  _at            integer[];                -- by idx: the position of the item's session among them
  _keyed         boolean;                  -- whether any item has an idempotency key or a producer
  _facts         starcite.append_facts[];  -- by idx: what the item's dedup depends on (see its type)
  -- By idx: the item's seq (the original one when deduped), whether this call appends it, and what later
  -- items of the call with the same key continue from.
  _seqs          bigint[];
  _new           boolean[];
  _key_owner     integer[];                -- the item of this call that appended its idempotency key
  _seq_owner     integer[];                -- the item of this call that appended its producer_seq
  _producer_last bigint[];                 -- its producer's last producer_seq after it
  _appended      boolean := false;
  _fact          starcite.append_facts;
  _item          starcite.append_item;
  _k             integer;
  _err           starcite.append_error;
  _dup           bigint;                   -- the seq of the event this item repeats
  _found         bigint;
  _owner         integer;
  _plast         bigint;
begin
  if items is null or jsonb_typeof(items) <> 'array' then
    perform starcite.raise_error('invalid_argument', 'events must be a JSON array', '{"field":"events"}');
  end if;
  _n := jsonb_array_length(items);
  if _n > starcite.limit_value('events_per_call') then
    perform starcite.raise_error('invalid_argument',
      format('at most %s events per call, got %s', starcite.limit_value('events_per_call'), _n),
      jsonb_build_object('field', 'events', 'max', starcite.limit_value('events_per_call'), 'count', _n));
  end if;
  if _n = 0 then
    return;
  end if;

  _items := array(select i from starcite.decode_items(items, starcite.current_tenant()) i order by i.idx);
  _new := array_fill(false, array[_n]);

  with locked as (
    select s.id, s.tenant_id, s.ctid, s.last_seq, row_number() over (order by s.id) as k
    from (select s.id, s.tenant_id, s.ctid, s.last_seq
          from starcite.sessions s
          where (s.id, s.tenant_id) in (select i.session_id, i.tenant_id from unnest(_items) i where i.problem is null)
          order by s.id
          for no key update) s)
  select array(select l.ctid from locked l order by l.k), array(select l.last_seq from locked l order by l.k),
         array(select l.k from unnest(_items) i
               left join locked l on l.id = i.session_id and l.tenant_id = i.tenant_id and i.problem is null
               order by i.idx),
         exists (select 1 from unnest(_items) i where i.idempotency_key is not null or i.producer_id is not null)
    into _rows, _lasts, _at, _keyed;

  if _keyed then
    -- After the locks, in a statement of its own, so that it sees every event committed before them.
    _facts := array(
      select row(lag(i.idx) over (partition by i.problem is null, i.session_id, i.tenant_id, i.idempotency_key
                                  order by i.idx),
                 lag(i.idx) over (partition by i.problem is null, i.session_id, i.tenant_id, i.producer_id
                                  order by i.idx),
                 lag(i.idx) over (partition by i.problem is null, i.session_id, i.tenant_id, i.producer_id,
                                               i.producer_seq order by i.idx),
                 keyed.seq, keyed.same, produced.last, repeated.seq, repeated.same)::starcite.append_facts
      from unnest(_items) i
      left join lateral (select e.seq, starcite.same_event_content(e, starcite.item_event(i)) as same
                         from starcite.events e
                         where i.idempotency_key is not null
                           and e.session_id = i.session_id and e.idempotency_key = i.idempotency_key) keyed on true
      left join lateral (select max(e.producer_seq) as last
                         from starcite.events e
                         where i.producer_id is not null
                           and e.session_id = i.session_id and e.producer_id = i.producer_id) produced on true
      left join lateral (select e.seq, starcite.same_event_content(e, starcite.item_event(i)) as same
                         from starcite.events e
                         where e.session_id = i.session_id and e.producer_id = i.producer_id
                           and e.producer_seq = i.producer_seq and i.producer_seq <= produced.last) repeated on true
      order by i.idx);
  end if;

  for _i in 1 .. _n loop
    _item := _items[_i];
    _k := _at[_i];
    _err := null;
    _dup := null;
    if _item.problem is not null then
      _err := starcite.event_error(_item.problem, _item.payload);
    elsif _k is null then
      _err := row('session_not_found', format('session %s does not exist', _item.session_id),
                  jsonb_build_object('session_id', _item.session_id));
    end if;
    if _k is not null and _keyed then
      _fact := _facts[_i];

      -- Dedup by idempotency key: the event that already holds the key in this session wins.
      if _item.idempotency_key is not null then
        _owner := case when _new[_fact.key_prev] then _fact.key_prev else _key_owner[_fact.key_prev] end;
        _key_owner[_i] := _owner;
        _found := coalesce(_fact.keyed_seq, _seqs[_owner]);
        if _found is not null then
          if coalesce(_fact.keyed_same, starcite.same_event_content(starcite.item_event(_item),
                                                                    starcite.item_event(_items[_owner]))) then
            _dup := _found;
          else
            _err := row('idempotency_conflict',
                        format('idempotency_key %s was already used for seq %s with different content',
                               _item.idempotency_key, _found),
                        jsonb_build_object('idempotency_key', _item.idempotency_key, 'seq', _found));
          end if;
        end if;
      end if;

      -- Dedup by producer: producer_seq continues the producer's run; an earlier one is a retry.
      if _item.producer_id is not null then
        _plast := case when _fact.producer_prev is null then _fact.producer_last
                       else _producer_last[_fact.producer_prev] end;
        _producer_last[_i] := _plast;
        _owner := case when _new[_fact.seq_prev] then _fact.seq_prev else _seq_owner[_fact.seq_prev] end;
        _seq_owner[_i] := _owner;
        if _err.code is null and _dup is null and _item.producer_seq <= _plast then
          _found := coalesce(_fact.repeated_seq, _seqs[_owner]);
          if _found is null then
            -- Below the producer's first seq: it was never appended, so it cannot be a retry.
            _err := starcite.producer_seq_error(_item, _plast);
          elsif coalesce(_fact.repeated_same, starcite.same_event_content(starcite.item_event(_item),
                                                                          starcite.item_event(_items[_owner]))) then
            _dup := _found;
          else
            _err := row('producer_replay_conflict',
                        format('producer %s already appended producer_seq %s (seq %s) with different content',
                               _item.producer_id, _item.producer_seq, _found),
                        jsonb_build_object('producer_id', _item.producer_id, 'producer_seq', _item.producer_seq,
                                           'seq', _found));
          end if;
        elsif _err.code is null and _dup is null and _item.producer_seq <> _plast + 1 then
          _err := starcite.producer_seq_error(_item, _plast);
        end if;
      end if;
    end if;

    -- Optimistic concurrency, checked after dedup so that a retried conditional append still dedupes.
    if _err.code is null and _dup is null and _item.expected_seq <> _lasts[_k] then
      _err := row('expected_seq_conflict',
                  format('session %s is at seq %s, expected %s', _item.session_id, _lasts[_k], _item.expected_seq),
                  jsonb_build_object('session_id', _item.session_id, 'last_seq', _lasts[_k],
                                     'expected_seq', _item.expected_seq));
    end if;

    if _err.code is not null then
      if atomic then
        perform starcite.raise_error(_err.code, _err.message,
          coalesce(_err.detail, '{}') || jsonb_build_object('index', _i - 1));
      end if;
      return next row(_i, null, null, false, _err.code, _err.code || ': ' || _err.message,
                      coalesce(_err.detail, '{}'))::starcite.append_result;
    elsif _dup is not null then
      _seqs[_i] := _dup;
      return next row(_i, _dup, _lasts[_k], true, null, null, null)::starcite.append_result;
    else
      _lasts[_k] := _lasts[_k] + 1;
      _seqs[_i] := _lasts[_k];
      _new[_i] := true;
      _appended := true;
      if _item.producer_id is not null then
        _producer_last[_i] := _item.producer_seq;
      end if;
      return next row(_i, _lasts[_k], _lasts[_k], false, null, null, null)::starcite.append_result;
    end if;
  end loop;

  if _appended then
    insert into starcite.events (session_id, seq, type, payload, actor, source, metadata, refs, idempotency_key,
                                 producer_id, producer_seq)
    select i.session_id, _seqs[i.idx], i.type, i.payload, i.actor, i.source, i.metadata, i.refs, i.idempotency_key,
           i.producer_id, i.producer_seq
    from unnest(_items) i
    where _new[i.idx]
    order by i.idx;
    update starcite.sessions s set last_seq = v.last_seq, updated_at = clock_timestamp()
    from unnest(_rows, _lasts) as v(row_id, last_seq)
    where s.ctid = v.row_id and s.last_seq <> v.last_seq;
  end if;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.archive_due(max_sessions integer DEFAULT 100)
 RETURNS TABLE(session_id text, tenant_id text)
 LANGUAGE sql
 STABLE
AS $function$
  select s.id, s.tenant_id
  from starcite.sessions s
  left join starcite.log_bounds b on b.session_id = s.id
  cross join lateral starcite.get_retention(s.id, s.tenant_id) p
  where p.archive
    and s.last_seq >= greatest(coalesce(b.archived_through, 0) + 1, coalesce(b.first_seq, 1))
    and starcite.expired_through(s.id, greatest(coalesce(b.archived_through, 0) + 1, coalesce(b.first_seq, 1)), 1)
        >= greatest(coalesce(b.archived_through, 0) + 1, coalesce(b.first_seq, 1))
    and s.tenant_id in (select p2.tenant_id from starcite.retention_policies p2 where p2.archive)
  order by s.id
  limit archive_due.max_sessions
$function$;

CREATE OR REPLACE FUNCTION starcite.archive_range(session_id text, max_events integer DEFAULT 1000)
 RETURNS TABLE(tenant_id text, from_seq bigint, to_seq bigint)
 LANGUAGE plpgsql
 STABLE
AS $function$
declare
  _s starcite.sessions;
  _b starcite.log_bounds;
  _from bigint;
  _to bigint;
begin
  select s.* into _s from starcite.sessions s where s.id = archive_range.session_id;
  if _s.id is null or not coalesce((starcite.get_retention(_s.id, _s.tenant_id)).archive, false) then
    return;
  end if;
  select b.* into _b from starcite.log_bounds b where b.session_id = _s.id;
  _from := greatest(coalesce(_b.archived_through, 0) + 1, coalesce(_b.first_seq, 1));
  _to := starcite.expired_through(_s.id, _from, archive_range.max_events);
  if _to >= _from then
    return query select _s.tenant_id, _from, _to;
  end if;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.archive_segment(session_id text, seq bigint, tenant_id text DEFAULT NULL::text)
 RETURNS SETOF starcite.archive_segments
 LANGUAGE sql
 STABLE
AS $function$
  select a.* from starcite.archive_segments a
  join starcite.sessions s on s.id = a.session_id
  where a.session_id = archive_segment.session_id and s.tenant_id = starcite.resolve_tenant(archive_segment.tenant_id)
    and a.from_seq <= archive_segment.seq and a.to_seq >= archive_segment.seq
  order by a.from_seq desc
  limit 1
$function$;

CREATE OR REPLACE FUNCTION starcite.authenticate_api_key(secret text)
 RETURNS TABLE(key_id text, tenant_id text, scopes text[], expires_at timestamp with time zone)
 LANGUAGE plpgsql
 STABLE
AS $function$
declare
  _key starcite.api_keys;
begin
  select k.* into _key from starcite.api_keys k
  where k.key_hash = sha256(convert_to(authenticate_api_key.secret, 'UTF8'));
  if _key.id is null then
    perform starcite.raise_error('unauthorized', 'unknown API key');
  elsif _key.revoked_at is not null then
    perform starcite.raise_error('unauthorized', format('API key %s was revoked', _key.id),
      jsonb_build_object('key_id', _key.id));
  elsif _key.expires_at is not null and _key.expires_at <= now() then
    perform starcite.raise_error('unauthorized', format('API key %s has expired', _key.id),
      jsonb_build_object('key_id', _key.id));
  end if;
  return query select _key.id, _key.tenant_id, _key.scopes, _key.expires_at;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.check_event(type text, payload jsonb, actor text, source text, metadata jsonb, refs jsonb, idempotency_key text, producer_id text, producer_seq bigint, expected_seq bigint)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$
  select case
    when coalesce(check_event.type, '') = '' then 'type'
    when char_length(check_event.type) > starcite.limit_value('event_type_chars') then 'type_length'
    when jsonb_typeof(check_event.payload) is distinct from 'object' then 'payload'
    when octet_length(check_event.payload::text) > starcite.limit_value('event_payload_bytes') then 'payload_size'
    when coalesce(jsonb_typeof(check_event.metadata), 'null') not in ('object', 'null') then 'metadata'
    when octet_length(check_event.metadata::text) > starcite.limit_value('event_metadata_bytes') then 'metadata_size'
    when coalesce(jsonb_typeof(check_event.refs), 'null') not in ('object', 'array', 'null') then 'refs'
    when octet_length(check_event.refs::text) > starcite.limit_value('event_refs_bytes') then 'refs_size'
    when char_length(check_event.actor) > starcite.limit_value('event_actor_chars') then 'actor'
    when char_length(check_event.source) > starcite.limit_value('event_source_chars') then 'source'
    when check_event.idempotency_key = ''
         or char_length(check_event.idempotency_key) > starcite.limit_value('idempotency_key_chars') then 'idempotency_key'
    when check_event.producer_id = ''
         or char_length(check_event.producer_id) > starcite.limit_value('producer_id_chars') then 'producer_id'
    when check_event.producer_seq < 1 then 'producer_seq'
    when check_event.producer_seq is null and check_event.producer_id is not null then 'producer_seq_missing'
    when check_event.producer_id is null and check_event.producer_seq is not null then 'producer_id_missing'
    when check_event.expected_seq < 0 then 'expected_seq'
  end
$function$;

CREATE OR REPLACE FUNCTION starcite.check_item_json(item jsonb)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$
  select case
    when jsonb_typeof(check_item_json.item) is distinct from 'object' then 'item'
    when jsonb_typeof(check_item_json.item->'session_id') is distinct from 'string' then 'session_id'
    when coalesce(jsonb_typeof(check_item_json.item->'type'), 'null') not in ('string', 'null') then 'type'
    when coalesce(jsonb_typeof(check_item_json.item->'actor'), 'null') not in ('string', 'null') then 'actor'
    when coalesce(jsonb_typeof(check_item_json.item->'source'), 'null') not in ('string', 'null') then 'source'
    when coalesce(jsonb_typeof(check_item_json.item->'idempotency_key'), 'null') not in ('string', 'null') then 'idempotency_key'
    when coalesce(jsonb_typeof(check_item_json.item->'producer_id'), 'null') not in ('string', 'null') then 'producer_id'
    when jsonb_typeof(check_item_json.item->'producer_seq') <> 'null'
         and starcite.json_bigint(check_item_json.item->'producer_seq') is null then 'producer_seq'
    when jsonb_typeof(check_item_json.item->'expected_seq') <> 'null'
         and starcite.json_bigint(check_item_json.item->'expected_seq') is null then 'expected_seq'
  end
$function$;

CREATE OR REPLACE FUNCTION starcite.check_page_size(size integer, limit_name text)
 RETURNS void
 LANGUAGE plpgsql
 STABLE
AS $function$
declare
  _max bigint := starcite.limit_value(check_page_size.limit_name);
begin
  if check_page_size.size is null or check_page_size.size < 1 or check_page_size.size > _max then
    perform starcite.raise_error('invalid_argument', format('limit must be between 1 and %s', _max),
      jsonb_build_object('field', 'limit', 'min', 1, 'max', _max));
  end if;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.check_session_fields(title text, metadata jsonb)
 RETURNS void
 LANGUAGE plpgsql
 STABLE
AS $function$
begin
  if char_length(check_session_fields.title) > starcite.limit_value('session_title_chars') then
    perform starcite.raise_error('invalid_argument',
      format('title is longer than %s characters', starcite.limit_value('session_title_chars')),
      jsonb_build_object('field', 'title'));
  end if;
  if check_session_fields.metadata is not null and jsonb_typeof(check_session_fields.metadata) <> 'object' then
    perform starcite.raise_error('invalid_argument', 'metadata must be a JSON object', jsonb_build_object('field', 'metadata'));
  end if;
  if octet_length(check_session_fields.metadata::text) > starcite.limit_value('session_metadata_bytes') then
    perform starcite.raise_error('payload_too_large',
      format('session metadata is larger than %s bytes', starcite.limit_value('session_metadata_bytes')),
      jsonb_build_object('field', 'metadata', 'limit', starcite.limit_value('session_metadata_bytes')));
  end if;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.check_webhook_fields(url text, session_ids text[], types text[], events boolean, lifecycle boolean)
 RETURNS void
 LANGUAGE plpgsql
 STABLE
AS $function$
declare
  _max bigint := starcite.limit_value('webhook_filter_items');
begin
  if check_webhook_fields.url is not null and (check_webhook_fields.url !~ '^https?://[^\s]+$'
     or char_length(check_webhook_fields.url) > starcite.limit_value('webhook_url_chars')) then
    perform starcite.raise_error('invalid_argument',
      format('url must be an http:// or https:// URL of at most %s characters', starcite.limit_value('webhook_url_chars')),
      '{"field":"url"}');
  end if;
  if cardinality(check_webhook_fields.session_ids) = 0 or cardinality(check_webhook_fields.session_ids) > _max
     or array_position(check_webhook_fields.session_ids, null) is not null then
    perform starcite.raise_error('invalid_argument', format('session_ids must hold 1-%s session ids (or be null: all)', _max),
      '{"field":"session_ids"}');
  end if;
  if cardinality(check_webhook_fields.types) = 0 or cardinality(check_webhook_fields.types) > _max
     or array_position(check_webhook_fields.types, null) is not null then
    perform starcite.raise_error('invalid_argument', format('types must hold 1-%s event types (or be null: all)', _max),
      '{"field":"types"}');
  end if;
  if check_webhook_fields.events is false and check_webhook_fields.lifecycle is false then
    perform starcite.raise_error('invalid_argument', 'an endpoint receives events, session changes or both',
      '{"field":"events"}');
  end if;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.clear_retention(session_id text DEFAULT NULL::text, tenant_id text DEFAULT NULL::text)
 RETURNS boolean
 LANGUAGE plpgsql
AS $function$
begin
  delete from starcite.retention_policies p
  where p.tenant_id = starcite.resolve_tenant(clear_retention.tenant_id)
    and p.session_id is not distinct from clear_retention.session_id;
  return found;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.create_api_key(tenant_id text, name text, scopes text[] DEFAULT starcite.default_key_scopes(), expires_at timestamp with time zone DEFAULT NULL::timestamp with time zone, creator_scopes text[] DEFAULT NULL::text[])
 RETURNS SETOF starcite.created_api_key
 LANGUAGE plpgsql
AS $function$
declare
  _secret text := 'sk_' || starcite.random_token(2);
  _id text := 'key_' || left(starcite.random_token(1), 16);
  _missing text[];
begin
  if create_api_key.name is null
     or char_length(create_api_key.name) not between 1 and starcite.limit_value('api_key_name_chars') then
    perform starcite.raise_error('invalid_argument',
      format('name must be 1-%s characters', starcite.limit_value('api_key_name_chars')), '{"field":"name"}');
  end if;
  if not starcite.valid_scopes(create_api_key.scopes) then
    perform starcite.raise_error('invalid_argument',
      format('scopes must be a non-empty subset of %s; got %s',
             (select string_agg(s.name, ', ' order by s.n) from starcite.scopes() with ordinality s(name, api_key_default, session_token, description, n)),
             coalesce(array_to_string(create_api_key.scopes, ', '), 'none')),
      '{"field":"scopes"}');
  end if;
  if create_api_key.creator_scopes is not null and not 'admin' = any (create_api_key.creator_scopes) then
    _missing := array(select distinct s from unnest(create_api_key.scopes) s
                      where s <> all (create_api_key.creator_scopes) order by s);
    if cardinality(_missing) > 0 then
      perform starcite.raise_error('forbidden_scope',
        format('cannot grant scopes you do not hold: %s', array_to_string(_missing, ', ')),
        jsonb_build_object('required', _missing));
    end if;
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
$function$;

CREATE OR REPLACE FUNCTION starcite.create_session(id text DEFAULT NULL::text, title text DEFAULT NULL::text, metadata jsonb DEFAULT NULL::jsonb, tenant_id text DEFAULT NULL::text)
 RETURNS starcite.sessions
 LANGUAGE plpgsql
AS $function$
declare
  _id text := coalesce(create_session.id, starcite.generate_session_id());
  _tenant text := starcite.resolve_tenant(create_session.tenant_id);
  _row starcite.sessions;
begin
  if not exists (select 1 from starcite.tenants t where t.id = _tenant) then
    perform starcite.raise_error('invalid_argument', format('tenant %s does not exist', _tenant),
      jsonb_build_object('field', 'tenant_id'));
  end if;

  insert into starcite.sessions (id, tenant_id, title, metadata)
  values (_id, _tenant, create_session.title, coalesce(create_session.metadata, '{}'))
  on conflict on constraint sessions_pkey do nothing
  returning * into _row;

  if _row.id is null then
    perform starcite.raise_error('session_exists', format('session %s already exists', _id),
      jsonb_build_object('session_id', _id));
  end if;
  return _row;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.create_tenant(id text, name text DEFAULT NULL::text)
 RETURNS starcite.tenants
 LANGUAGE plpgsql
AS $function$
declare
  _row starcite.tenants;
begin
  if create_tenant.id is null or not starcite.valid_tenant_id(create_tenant.id) then
    perform starcite.raise_error('invalid_argument',
      format('tenant id must be 1-%s characters of [A-Za-z0-9_.-], starting with a letter or digit',
             starcite.limit_value('tenant_id_chars')),
      '{"field":"tenant_id"}');
  end if;
  insert into starcite.tenants (id, name) values (create_tenant.id, create_tenant.name)
  on conflict on constraint tenants_pkey do update set name = coalesce(excluded.name, starcite.tenants.name)
  returning * into _row;
  return _row;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.create_webhook_endpoint(url text, session_ids text[] DEFAULT NULL::text[], types text[] DEFAULT NULL::text[], events boolean DEFAULT true, lifecycle boolean DEFAULT true, tenant_id text DEFAULT NULL::text)
 RETURNS starcite.webhook_endpoints
 LANGUAGE plpgsql
AS $function$
declare
  _tenant text := starcite.resolve_tenant(create_webhook_endpoint.tenant_id);
  _row starcite.webhook_endpoints;
begin
  if create_webhook_endpoint.url is null then
    perform starcite.raise_error('invalid_argument', 'url is required', '{"field":"url"}');
  end if;
  perform starcite.check_webhook_fields(create_webhook_endpoint.url, create_webhook_endpoint.session_ids,
    create_webhook_endpoint.types, coalesce(create_webhook_endpoint.events, true),
    coalesce(create_webhook_endpoint.lifecycle, true));
  -- The tenant row, locked, keeps two concurrent creates from both passing the count check.
  perform 1 from starcite.tenants t where t.id = _tenant for no key update;
  if not found then
    perform starcite.raise_error('invalid_argument', format('tenant %s does not exist', _tenant), '{"field":"tenant_id"}');
  end if;
  if (select count(*) from starcite.webhook_endpoints w where w.tenant_id = _tenant)
     >= starcite.limit_value('webhook_endpoints_per_tenant') then
    perform starcite.raise_error('invalid_argument',
      format('a tenant has at most %s webhook endpoints', starcite.limit_value('webhook_endpoints_per_tenant')),
      jsonb_build_object('field', 'url', 'max', starcite.limit_value('webhook_endpoints_per_tenant')));
  end if;
  insert into starcite.webhook_endpoints (id, tenant_id, url, secret, session_ids, types, events, lifecycle,
                                          changes_delivered)
  values ('whk_' || left(starcite.random_token(1), 16), _tenant, create_webhook_endpoint.url,
          'whsec_' || starcite.random_token(2),
          (select array_agg(distinct x order by x) from unnest(create_webhook_endpoint.session_ids) x),
          (select array_agg(distinct x order by x) from unnest(create_webhook_endpoint.types) x),
          coalesce(create_webhook_endpoint.events, true), coalesce(create_webhook_endpoint.lifecycle, true),
          starcite.last_change_seq(_tenant))
  returning * into _row;
  return _row;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.current_tenant()
 RETURNS text
 LANGUAGE sql
 STABLE PARALLEL SAFE
AS $function$
  select coalesce(nullif(current_setting('starcite.tenant_id', true), ''), 'default')
$function$;

CREATE OR REPLACE FUNCTION starcite.decode_items(items jsonb, tenant_id text)
 RETURNS SETOF starcite.append_item
 LANGUAGE sql
 STABLE PARALLEL SAFE
AS $function$
  select d.idx, d.session_id, d.tenant_id, d.type, d.payload, d.actor, d.source, d.metadata, d.refs,
         d.idempotency_key, d.producer_id, d.producer_seq, d.expected_seq,
         coalesce(starcite.check_item_json(d.item),
                  starcite.check_event(d.type, d.payload, d.actor, d.source, d.metadata, d.refs, d.idempotency_key,
                                       d.producer_id, d.producer_seq, d.expected_seq)) as problem
  from (select x.idx::integer, x.item,
               x.item->>'session_id' as session_id,
               coalesce(x.item->>'tenant_id', decode_items.tenant_id) as tenant_id,
               coalesce(x.item->>'type', 'content') as type,
               x.item->'payload' as payload,
               x.item->>'actor' as actor,
               x.item->>'source' as source,
               nullif(x.item->'metadata', 'null') as metadata,
               nullif(x.item->'refs', 'null') as refs,
               x.item->>'idempotency_key' as idempotency_key,
               x.item->>'producer_id' as producer_id,
               starcite.json_bigint(x.item->'producer_seq') as producer_seq,
               starcite.json_bigint(x.item->'expected_seq') as expected_seq
        from jsonb_array_elements(decode_items.items) with ordinality as x(item, idx)) d
  order by d.idx
$function$;

CREATE OR REPLACE FUNCTION starcite.default_key_scopes()
 RETURNS text[]
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$
  select array(select s.name from starcite.scopes() s where s.api_key_default order by s.name)
$function$;

CREATE OR REPLACE FUNCTION starcite.delete_session(id text, tenant_id text DEFAULT NULL::text)
 RETURNS starcite.sessions
 LANGUAGE plpgsql
AS $function$
declare
  _row starcite.sessions;
begin
  delete from starcite.sessions s
  where s.id = delete_session.id and s.tenant_id = starcite.resolve_tenant(delete_session.tenant_id)
  returning s.* into _row;
  if _row.id is null then
    perform starcite.raise_error('session_not_found', format('session %s does not exist', delete_session.id),
      jsonb_build_object('session_id', delete_session.id));
  end if;
  return _row;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.delete_webhook_endpoint(id text, tenant_id text DEFAULT NULL::text)
 RETURNS starcite.webhook_endpoint_info
 LANGUAGE plpgsql
AS $function$
declare
  _row starcite.webhook_endpoints;
begin
  delete from starcite.webhook_endpoints w
  where w.id = delete_webhook_endpoint.id and w.tenant_id = starcite.resolve_tenant(delete_webhook_endpoint.tenant_id)
  returning w.* into _row;
  if _row.id is null then
    perform starcite.raise_error('webhook_not_found', format('webhook endpoint %s does not exist', delete_webhook_endpoint.id),
      jsonb_build_object('endpoint_id', delete_webhook_endpoint.id));
  end if;
  return starcite.webhook_endpoint_info(_row);
end
$function$;

CREATE OR REPLACE FUNCTION starcite.error_codes()
 RETURNS TABLE(code text, sqlstate text, http_status integer, description text)
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$
  values
    ('invalid_argument',         'SC001', 400, 'an argument is out of range or malformed: limit, cursor, session id, scopes, tenant'),
    ('invalid_event',            'SC002', 400, 'empty or too long `type`, non-object `payload`, `producer_id` without `producer_seq`, text Postgres cannot store, ...'),
    ('payload_too_large',        'SC003', 413, 'payload over 262,144 bytes; metadata or refs over 16,384; session metadata over 65,536'),
    ('session_not_found',        'SC100', 404, 'no such session in your tenant (or not the session your token is for)'),
    ('session_exists',           'SC101', 409, '`create_session` with a taken id'),
    ('version_conflict',         'SC102', 409, '`update_session` with a stale `expected_version`'),
    ('expected_seq_conflict',    'SC200', 409, '`expected_seq` ≠ the session''s `last_seq` (detail: `last_seq`)'),
    ('producer_seq_conflict',    'SC201', 409, '`producer_seq` is not the producer''s last + 1 (detail: `expected_producer_seq`)'),
    ('producer_replay_conflict', 'SC202', 409, 'a used `producer_seq` with different content (detail: original `seq`)'),
    ('idempotency_conflict',     'SC203', 409, 'a used `idempotency_key` with different content'),
    ('unauthorized',             'SC300', 401, 'missing, unknown, revoked or expired credential'),
    ('forbidden_scope',          'SC301', 403, 'the credential lacks the scope (or is a session token doing a backend''s job), or grants a scope it does not hold'),
    ('token_expired',            'SC302', 401, 'the session token expired (a tail ends with it: refresh and resume from the cursor)'),
    ('forbidden_actor',          'SC303', 403, 'a session token tried to append as someone else'),
    ('key_not_found',            'SC304', 404, 'revoking an unknown key'),
    ('webhook_not_found',        'SC305', 404, 'no such webhook endpoint in your tenant'),
    ('cursor_expired',           'SC400', 410, 'the cursor is before the earliest event (or session change) still kept: retention removed what follows it (detail: `earliest_seq`, resume from `earliest_seq - 1` or start over)'),
    ('internal_error',           'SC000', 500, 'anything unexpected (logged server-side, never detailed to clients)'),
    ('database_unavailable',     null,    503, 'the server cannot reach Postgres (retry / resume)'),
    ('shutting_down',            null,    503, 'the server is draining (retry elsewhere)'),
    ('bad_request',              null,    400, 'malformed GraphQL: syntax, unknown fields, wrong variable types; a REST body that is not JSON'),
    ('overloaded',               null,    429, 'more than 10,000 appends are waiting for the database on this server: retry with backoff'),
    ('route_not_found',          null,    404, 'REST: no such route (the body points at `/graphql` and the REST docs)'),
    ('method_not_allowed',       null,    405, 'REST: the route exists for other methods')
$function$;
comment on function starcite.error_codes() is 'Every error code with its SQLSTATE (null: raised by the server), HTTP status and meaning.';

CREATE OR REPLACE FUNCTION starcite.error_sqlstate(code text)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$
  select coalesce((select c.sqlstate from starcite.error_codes() c where c.code = error_sqlstate.code), 'SC000')
$function$;

CREATE OR REPLACE FUNCTION starcite.event_error(problem text, payload jsonb)
 RETURNS starcite.append_error
 LANGUAGE sql
 STABLE PARALLEL SAFE
AS $function$
  select case event_error.problem
    when 'payload_size' then
      row('payload_too_large',
          format('payload is %s bytes, the limit is %s', octet_length(event_error.payload::text),
                 starcite.limit_value('event_payload_bytes')),
          jsonb_build_object('field', 'payload', 'limit', starcite.limit_value('event_payload_bytes'),
                             'size', octet_length(event_error.payload::text)))::starcite.append_error
    when 'metadata_size' then
      row('payload_too_large', format('metadata is larger than %s bytes', starcite.limit_value('event_metadata_bytes')),
          jsonb_build_object('field', 'metadata', 'limit', starcite.limit_value('event_metadata_bytes')))::starcite.append_error
    when 'refs_size' then
      row('payload_too_large', format('refs is larger than %s bytes', starcite.limit_value('event_refs_bytes')),
          jsonb_build_object('field', 'refs', 'limit', starcite.limit_value('event_refs_bytes')))::starcite.append_error
    else
      row('invalid_event',
          case event_error.problem
            when 'item' then 'each event must be a JSON object'
            when 'session_id' then 'session_id is required'
            when 'type' then 'type must be a non-empty string'
            when 'type_length' then format('type is longer than %s characters', starcite.limit_value('event_type_chars'))
            when 'payload' then 'payload must be a JSON object'
            when 'metadata' then 'metadata must be a JSON object'
            when 'refs' then 'refs must be a JSON object or array'
            when 'actor' then format('actor must be a string of at most %s characters',
                                     starcite.limit_value('event_actor_chars'))
            when 'source' then format('source must be a string of at most %s characters',
                                      starcite.limit_value('event_source_chars'))
            when 'idempotency_key' then format('idempotency_key must be a non-empty string of at most %s characters',
                                               starcite.limit_value('idempotency_key_chars'))
            when 'producer_id' then format('producer_id must be a non-empty string of at most %s characters',
                                           starcite.limit_value('producer_id_chars'))
            when 'producer_seq' then 'producer_seq must be an integer >= 1'
            when 'producer_seq_missing' then 'producer_id and producer_seq must be given together'
            when 'producer_id_missing' then 'producer_id and producer_seq must be given together'
            when 'expected_seq' then 'expected_seq must be an integer >= 0'
          end,
          case event_error.problem
            when 'item' then '{}'::jsonb
            when 'type_length' then '{"field":"type"}'
            when 'producer_seq_missing' then '{"field":"producer_seq"}'
            when 'producer_id_missing' then '{"field":"producer_id"}'
            else jsonb_build_object('field', event_error.problem)
          end)::starcite.append_error
  end
$function$;

CREATE OR REPLACE FUNCTION starcite.expired_through(session_id text, from_seq bigint, max_scan integer)
 RETURNS bigint
 LANGUAGE plpgsql
 STABLE
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION starcite.generate_session_id()
 RETURNS text
 LANGUAGE sql
AS $function$
  select 'ses_' || rtrim(translate(encode(uuid_send(gen_random_uuid()), 'base64'), '+/', '-_'), '=')
$function$;

CREATE OR REPLACE FUNCTION starcite.get_retention(session_id text DEFAULT NULL::text, tenant_id text DEFAULT NULL::text)
 RETURNS starcite.retention_policy
 LANGUAGE sql
 STABLE
AS $function$
  select coalesce(
    (select row(case when p.session_id is null then 'tenant' else 'session' end, p.max_age, p.max_events,
                p.archive)::starcite.retention_policy
     from starcite.retention_policies p
     where p.tenant_id = starcite.resolve_tenant(get_retention.tenant_id)
       and (p.session_id = get_retention.session_id or p.session_id is null)
     order by p.session_id nulls last
     limit 1),
    row(null, null, null, null)::starcite.retention_policy)
$function$;

CREATE OR REPLACE FUNCTION starcite.get_session(id text, tenant_id text DEFAULT NULL::text)
 RETURNS starcite.sessions
 LANGUAGE sql
 STABLE
AS $function$
  select s.* from starcite.sessions s
  where s.id = get_session.id and s.tenant_id = starcite.resolve_tenant(get_session.tenant_id)
$function$;

CREATE OR REPLACE FUNCTION starcite.item_event(item starcite.append_item)
 RETURNS starcite.events
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$
  select row(item.session_id, null, item.type, item.payload, item.actor, item.source, item.metadata, item.refs,
             item.idempotency_key, item.producer_id, item.producer_seq, null)::starcite.events
$function$;

CREATE OR REPLACE FUNCTION starcite.json_bigint(value jsonb)
 RETURNS bigint
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$
  select case when jsonb_typeof(json_bigint.value) in ('number', 'string')
                   and (json_bigint.value #>> '{}') ~ '^-?[0-9]{1,18}$'
              then (json_bigint.value #>> '{}')::bigint end
$function$;

CREATE OR REPLACE FUNCTION starcite.last_change_seq(tenant_id text DEFAULT NULL::text)
 RETURNS bigint
 LANGUAGE sql
 STABLE
AS $function$
  select coalesce((select c.last_seq from starcite.change_counters c
                   where c.tenant_id = starcite.resolve_tenant(last_change_seq.tenant_id)), 0)
$function$;

CREATE OR REPLACE FUNCTION starcite.limit_value(name text)
 RETURNS bigint
 LANGUAGE plpgsql
 IMMUTABLE PARALLEL SAFE STRICT
AS $function$
declare
  _value bigint;
begin
  select l.value into _value from starcite.limits() l where l.name = limit_value.name;
  if _value is null then
    raise exception 'starcite.limit_value: unknown limit %', limit_value.name;
  end if;
  return _value;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.limits()
 RETURNS TABLE(name text, value bigint, description text)
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$
  values
    ('session_id_chars',       128,    'characters in a session id (`[A-Za-z0-9_.:-]`, starting with a letter or digit)'),
    ('session_title_chars',    1000,   'characters in a session title'),
    ('session_metadata_bytes', 65536,  'bytes of a session''s metadata (as JSON text)'),
    ('tenant_id_chars',        64,     'characters in a tenant id (`[A-Za-z0-9_.-]`, starting with a letter or digit)'),
    ('event_type_chars',       128,    'characters in an event''s `type` (at least 1)'),
    ('event_payload_bytes',    262144, 'bytes of an event''s `payload` (a JSON object, as JSON text)'),
    ('event_metadata_bytes',   16384,  'bytes of an event''s `metadata` (as JSON text)'),
    ('event_refs_bytes',       16384,  'bytes of an event''s `refs` (as JSON text)'),
    ('event_actor_chars',      256,    'characters in an event''s `actor`'),
    ('event_source_chars',     256,    'characters in an event''s `source`'),
    ('idempotency_key_chars',  256,    'characters in an `idempotency_key` (at least 1)'),
    ('producer_id_chars',      256,    'characters in a `producer_id` (at least 1)'),
    ('events_per_call',        1000,   'events in one `append_batch` or `append_items` call'),
    ('events_per_read',        1000,   '`max_events` of one `read`'),
    ('sessions_per_list',      1000,   '`max_sessions` of one `list_sessions`'),
    ('api_key_name_chars',     200,    'characters in an API key''s name (at least 1)'),
    ('changes_per_read',       1000,   '`max_changes` of one `read_changes`'),
    ('webhook_url_chars',      2048,   'characters in a webhook endpoint''s URL (`http://` or `https://`)'),
    ('webhook_filter_items',   100,    'session ids, or event types, in one webhook endpoint''s filter'),
    ('webhook_endpoints_per_tenant', 100, 'webhook endpoints of one tenant'),
    ('deliveries_per_list',    1000,   '`max_deliveries` of one `list_webhook_deliveries`')
$function$;
comment on function starcite.limits() is 'Every documented limit: its name, value and what it bounds.';

CREATE OR REPLACE FUNCTION starcite.list_api_keys(tenant_id text DEFAULT NULL::text)
 RETURNS SETOF starcite.api_key_info
 LANGUAGE sql
 STABLE
AS $function$
  select k.id, k.tenant_id, k.name, k.key_prefix, k.scopes, k.created_at, k.expires_at, k.revoked_at
  from starcite.api_keys k
  where list_api_keys.tenant_id is null or k.tenant_id = list_api_keys.tenant_id
  order by k.tenant_id, k.created_at, k.id
$function$;

CREATE OR REPLACE FUNCTION starcite.list_sessions(max_sessions integer DEFAULT 100, after_id text DEFAULT NULL::text, archived boolean DEFAULT false, tenant_id text DEFAULT NULL::text)
 RETURNS SETOF starcite.sessions
 LANGUAGE plpgsql
 STABLE
AS $function$
begin
  perform starcite.check_page_size(list_sessions.max_sessions, 'sessions_per_list');
  return query
    select s.* from starcite.sessions s
    where s.tenant_id = starcite.resolve_tenant(list_sessions.tenant_id)
      and s.archived = coalesce(list_sessions.archived, false)
      and (list_sessions.after_id is null or s.id > list_sessions.after_id)
    order by s.id
    limit list_sessions.max_sessions;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.list_webhook_deliveries(endpoint_id text, status text DEFAULT NULL::text, max_deliveries integer DEFAULT 100, tenant_id text DEFAULT NULL::text)
 RETURNS SETOF starcite.webhook_deliveries
 LANGUAGE plpgsql
 STABLE
AS $function$
begin
  perform starcite.check_page_size(list_webhook_deliveries.max_deliveries, 'deliveries_per_list');
  if list_webhook_deliveries.status is not null and list_webhook_deliveries.status not in ('pending', 'succeeded') then
    perform starcite.raise_error('invalid_argument', 'status must be pending or succeeded', '{"field":"status"}');
  end if;
  if not exists (select 1 from starcite.webhook_endpoints w
                 where w.id = list_webhook_deliveries.endpoint_id
                   and w.tenant_id = starcite.resolve_tenant(list_webhook_deliveries.tenant_id)) then
    perform starcite.raise_error('webhook_not_found', format('webhook endpoint %s does not exist', list_webhook_deliveries.endpoint_id),
      jsonb_build_object('endpoint_id', list_webhook_deliveries.endpoint_id));
  end if;
  return query
    select d.* from starcite.webhook_deliveries d
    where d.endpoint_id = list_webhook_deliveries.endpoint_id
      and (list_webhook_deliveries.status is null or d.status = list_webhook_deliveries.status)
    order by d.created_at desc, d.id
    limit list_webhook_deliveries.max_deliveries;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.list_webhook_endpoints(tenant_id text DEFAULT NULL::text)
 RETURNS SETOF starcite.webhook_endpoint_info
 LANGUAGE sql
 STABLE
AS $function$
  select (starcite.webhook_endpoint_info(w)).* from starcite.webhook_endpoints w
  where w.tenant_id = starcite.resolve_tenant(list_webhook_endpoints.tenant_id)
  order by w.created_at, w.id
$function$;

CREATE OR REPLACE FUNCTION starcite.producer_seq_error(item starcite.append_item, last_producer_seq bigint)
 RETURNS starcite.append_error
 LANGUAGE sql
 STABLE PARALLEL SAFE
AS $function$
  select row('producer_seq_conflict',
             format('producer %s is at producer_seq %s; expected %s, got %s',
                    item.producer_id, last_producer_seq, last_producer_seq + 1, item.producer_seq),
             jsonb_build_object('producer_id', item.producer_id, 'expected_producer_seq', last_producer_seq + 1,
                                'producer_seq', item.producer_seq, 'last_producer_seq', last_producer_seq))::starcite.append_error
$function$;

CREATE OR REPLACE FUNCTION starcite.raise_cursor_expired(session_id text, cursor bigint, bounds starcite.log_bounds)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
declare
  _earliest bigint := case when bounds.archived_from is not null and bounds.archived_through >= bounds.first_seq - 1
                           then bounds.archived_from else bounds.first_seq end;
begin
  perform starcite.raise_error('cursor_expired',
    format('cursor %s of session %s is before the earliest event kept (seq %s)%s', raise_cursor_expired.cursor,
           raise_cursor_expired.session_id, _earliest,
           case when _earliest < bounds.first_seq then '; the server reads the archived range from the archive'
                else '; resume from earliest_seq - 1 or start over' end),
    jsonb_build_object('session_id', raise_cursor_expired.session_id, 'cursor', raise_cursor_expired.cursor,
                       'earliest_seq', _earliest, 'retained_seq', bounds.first_seq,
                       'archived_from', bounds.archived_from, 'archived_through', bounds.archived_through));
end
$function$;

CREATE OR REPLACE FUNCTION starcite.raise_error(code text, message text, detail jsonb DEFAULT '{}'::jsonb)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
begin
  raise exception using
    errcode = starcite.error_sqlstate(raise_error.code),
    message = raise_error.code || ': ' || raise_error.message,
    detail = coalesce(raise_error.detail, '{}')::text;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.random_token(bytes_from_uuids integer DEFAULT 2)
 RETURNS text
 LANGUAGE sql
AS $function$
  select rtrim(translate(encode(string_agg(uuid_send(gen_random_uuid()), ''::bytea), 'base64'), '+/', '-_'), '=')
  from generate_series(1, bytes_from_uuids)
$function$;

CREATE OR REPLACE FUNCTION starcite.read(session_id text, after_seq bigint DEFAULT 0, max_events integer DEFAULT 100, tenant_id text DEFAULT NULL::text)
 RETURNS SETOF starcite.events
 LANGUAGE plpgsql
 STABLE
AS $function$
declare
  _bounds starcite.log_bounds;
begin
  if after_seq is null or after_seq < 0 then
    perform starcite.raise_error('invalid_argument', 'after_seq must be >= 0', '{"field":"after_seq"}');
  end if;
  perform starcite.check_page_size(read.max_events, 'events_per_read');
  if not exists (select 1 from starcite.sessions s
                 where s.id = read.session_id and s.tenant_id = starcite.resolve_tenant(read.tenant_id)) then
    perform starcite.raise_error('session_not_found', format('session %s does not exist', read.session_id),
      jsonb_build_object('session_id', read.session_id));
  end if;
  select b.* into _bounds from starcite.log_bounds b where b.session_id = read.session_id;
  if _bounds.first_seq is not null and read.after_seq + 1 < _bounds.first_seq then
    perform starcite.raise_cursor_expired(read.session_id, read.after_seq, _bounds);
  end if;
  return query
    select e.* from starcite.events e
    where e.session_id = read.session_id and e.seq > read.after_seq
    order by e.seq
    limit read.max_events;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.read_changes(after_seq bigint DEFAULT 0, max_changes integer DEFAULT 100, tenant_id text DEFAULT NULL::text)
 RETURNS SETOF starcite.session_changes
 LANGUAGE plpgsql
 STABLE
AS $function$
declare
  _tenant text := starcite.resolve_tenant(read_changes.tenant_id);
  _first bigint;
begin
  if read_changes.after_seq is null or read_changes.after_seq < 0 then
    perform starcite.raise_error('invalid_argument', 'after_seq must be >= 0', '{"field":"after_seq"}');
  end if;
  perform starcite.check_page_size(read_changes.max_changes, 'changes_per_read');
  select c.first_seq into _first from starcite.change_counters c where c.tenant_id = _tenant;
  if read_changes.after_seq + 1 < coalesce(_first, 1) then
    perform starcite.raise_error('cursor_expired',
      format('cursor %s is before the earliest session change kept (seq %s); resume from earliest_seq - 1',
             read_changes.after_seq, _first),
      jsonb_build_object('cursor', read_changes.after_seq, 'earliest_seq', _first));
  end if;
  return query
    select c.* from starcite.session_changes c
    where c.tenant_id = _tenant and c.seq > read_changes.after_seq
    order by c.seq
    limit read_changes.max_changes;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.record_archive_segment(session_id text, from_seq bigint, to_seq bigint, object_key text, bytes bigint)
 RETURNS boolean
 LANGUAGE plpgsql
AS $function$
declare
  _b starcite.log_bounds;
begin
  insert into starcite.log_bounds (session_id) values (record_archive_segment.session_id)
  on conflict on constraint log_bounds_pkey do nothing;
  select b.* into _b from starcite.log_bounds b where b.session_id = record_archive_segment.session_id for update;
  if _b.archived_through >= record_archive_segment.to_seq then
    return false;
  end if;
  insert into starcite.archive_segments (session_id, from_seq, to_seq, object_key, bytes)
  values (record_archive_segment.session_id, record_archive_segment.from_seq, record_archive_segment.to_seq,
          record_archive_segment.object_key, record_archive_segment.bytes)
  on conflict on constraint archive_segments_pkey do update
    set to_seq = excluded.to_seq, object_key = excluded.object_key, bytes = excluded.bytes;
  update starcite.log_bounds b set
    -- A range that does not continue the archived one starts it anew (older events were deleted unarchived).
    archived_from = case when b.archived_from is null or record_archive_segment.from_seq <> b.archived_through + 1
                         then record_archive_segment.from_seq else b.archived_from end,
    archived_through = record_archive_segment.to_seq
  where b.session_id = record_archive_segment.session_id;
  return true;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.resolve_tenant(tenant_id text)
 RETURNS text
 LANGUAGE sql
 STABLE PARALLEL SAFE
AS $function$
  select coalesce(resolve_tenant.tenant_id, starcite.current_tenant())
$function$;

CREATE OR REPLACE FUNCTION starcite.retention_due(max_sessions integer DEFAULT 100)
 RETURNS TABLE(session_id text, tenant_id text)
 LANGUAGE sql
 STABLE
AS $function$
  select s.id, s.tenant_id
  from starcite.sessions s
  left join starcite.log_bounds b on b.session_id = s.id
  cross join lateral starcite.get_retention(s.id, s.tenant_id) p
  where p.scope is not null
    and s.last_seq >= coalesce(b.first_seq, 1)
    and starcite.expired_through(s.id, coalesce(b.first_seq, 1), 1) >= coalesce(b.first_seq, 1)
    and (not p.archive or coalesce(b.archived_through, 0) >= coalesce(b.first_seq, 1))
    and s.tenant_id in (select p2.tenant_id from starcite.retention_policies p2)
  order by s.id
  limit retention_due.max_sessions
$function$;

CREATE OR REPLACE FUNCTION starcite.revoke_api_key(id text, tenant_id text DEFAULT NULL::text)
 RETURNS SETOF starcite.api_key_info
 LANGUAGE plpgsql
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION starcite.same_event_content(a starcite.events, b starcite.events)
 RETURNS boolean
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$
  select a.type = b.type
     and a.payload = b.payload
     and a.actor is not distinct from b.actor
     and a.source is not distinct from b.source
     and a.metadata is not distinct from b.metadata
     and a.refs is not distinct from b.refs
     and a.idempotency_key is not distinct from b.idempotency_key
     and a.producer_id is not distinct from b.producer_id
     and a.producer_seq is not distinct from b.producer_seq
$function$;

CREATE OR REPLACE FUNCTION starcite.scopes()
 RETURNS TABLE(name text, api_key_default boolean, session_token boolean, description text)
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$
  values
    ('session:create', true,  false, 'create, update and list sessions'),
    ('session:read',   true,  true,  'read, list and tail sessions'),
    ('session:append', true,  true,  'append'),
    ('keys:admin',     false, false, 'manage your tenant''s API keys'),
    ('tenant:admin', false, false, 'manage your tenant''s retention policies and webhook endpoints, and read webhook deliveries'),
    ('admin',          false, false, 'manage any tenant''s keys (the development key has it)')
$function$;
comment on function starcite.scopes() is 'Every scope a credential can hold: a new key''s default, whether a session token may carry it, what it allows.';

CREATE OR REPLACE FUNCTION starcite.set_retention(max_age interval DEFAULT NULL::interval, max_events bigint DEFAULT NULL::bigint, archive boolean DEFAULT false, session_id text DEFAULT NULL::text, tenant_id text DEFAULT NULL::text)
 RETURNS starcite.retention_policy
 LANGUAGE plpgsql
AS $function$
declare
  _tenant text := starcite.resolve_tenant(set_retention.tenant_id);
begin
  if set_retention.max_age is null and set_retention.max_events is null then
    perform starcite.raise_error('invalid_argument', 'a retention policy needs max_age and/or max_events',
      '{"field":"max_age"}');
  end if;
  if set_retention.max_age <= interval '0' then
    perform starcite.raise_error('invalid_argument', 'max_age must be positive', '{"field":"max_age"}');
  end if;
  if set_retention.max_events < 1 then
    perform starcite.raise_error('invalid_argument', 'max_events must be >= 1', '{"field":"max_events"}');
  end if;
  if set_retention.session_id is not null and not exists (
       select 1 from starcite.sessions s where s.id = set_retention.session_id and s.tenant_id = _tenant) then
    perform starcite.raise_error('session_not_found', format('session %s does not exist', set_retention.session_id),
      jsonb_build_object('session_id', set_retention.session_id));
  end if;
  if not exists (select 1 from starcite.tenants t where t.id = _tenant) then
    perform starcite.raise_error('invalid_argument', format('tenant %s does not exist', _tenant),
      '{"field":"tenant_id"}');
  end if;

  delete from starcite.retention_policies p
  where p.tenant_id = _tenant and p.session_id is not distinct from set_retention.session_id;
  insert into starcite.retention_policies (tenant_id, session_id, max_age, max_events, archive)
  values (_tenant, set_retention.session_id, set_retention.max_age, set_retention.max_events,
          coalesce(set_retention.archive, false));
  return starcite.get_retention(set_retention.session_id, _tenant);
end
$function$;

CREATE OR REPLACE FUNCTION starcite.tg_events__notify()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
begin
  perform pg_notify('starcite_events',
                    json_build_object('session_id', n.session_id, 'last_seq', max(n.seq))::text)
  from new_events n
  group by n.session_id;
  return null;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.tg_sessions__check()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
begin
  if tg_op = 'UPDATE' and new.id is distinct from old.id then
    perform starcite.raise_error('invalid_argument', 'a session id cannot change', '{"field":"id"}');
  end if;
  if new.id is null or not starcite.valid_session_id(new.id) then
    perform starcite.raise_error('invalid_argument',
      format('session id must be 1-%s characters of [A-Za-z0-9_.:-], starting with a letter or digit',
             starcite.limit_value('session_id_chars')),
      '{"field":"id"}');
  end if;
  perform starcite.check_session_fields(new.title, new.metadata);
  return new;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.tg_sessions__record_change()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
declare
  _row starcite.sessions := case when tg_op = 'DELETE' then old else new end;
  _kind text;
  _seq bigint;
begin
  if tg_op = 'INSERT' then
    _kind := 'created';
  elsif tg_op = 'DELETE' then
    _kind := 'deleted';
  elsif new.archived is distinct from old.archived then
    _kind := case when new.archived then 'archived' else 'unarchived' end;
  elsif (new.title, new.metadata, new.version) is distinct from (old.title, old.metadata, old.version) then
    _kind := 'updated';
  else
    return null;
  end if;

  insert into starcite.change_counters as c (tenant_id, last_seq) values (_row.tenant_id, 1)
  on conflict (tenant_id) do update set last_seq = c.last_seq + 1
  returning c.last_seq into _seq;
  insert into starcite.session_changes (tenant_id, seq, session_id, kind, version, archived)
  values (_row.tenant_id, _seq, _row.id, _kind, _row.version, _row.archived);
  perform pg_notify('starcite_changes', json_build_object('tenant_id', _row.tenant_id, 'seq', _seq)::text);
  return null;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.trim_changes(tenant_id text, max_changes integer DEFAULT 1000)
 RETURNS bigint
 LANGUAGE plpgsql
AS $function$
declare
  _p starcite.retention_policy := starcite.get_retention(null, trim_changes.tenant_id);
  _first bigint;
  _through bigint;
  _webhooks bigint;
begin
  if _p.max_age is null then
    return 0;
  end if;
  select c.first_seq into _first from starcite.change_counters c where c.tenant_id = trim_changes.tenant_id;
  if _first is null then
    return 0;
  end if;
  select coalesce((select min(w.seq) - 1 from (select c.seq, c.changed_at from starcite.session_changes c
                                               where c.tenant_id = trim_changes.tenant_id and c.seq >= _first
                                               order by c.seq limit trim_changes.max_changes) w
                   where w.changed_at >= clock_timestamp() - _p.max_age),
                  (select max(c.seq) from (select c.seq from starcite.session_changes c
                                           where c.tenant_id = trim_changes.tenant_id and c.seq >= _first
                                           order by c.seq limit trim_changes.max_changes) c),
                  _first - 1)
    into _through;
  select min(w.changes_delivered) into _webhooks from starcite.webhook_endpoints w
  where w.tenant_id = trim_changes.tenant_id and w.enabled and w.lifecycle;
  _through := least(_through, coalesce(_webhooks, _through));
  if _through < _first then
    return 0;
  end if;
  delete from starcite.session_changes c
  where c.tenant_id = trim_changes.tenant_id and c.seq >= _first and c.seq <= _through;
  update starcite.change_counters c set first_seq = _through + 1 where c.tenant_id = trim_changes.tenant_id;
  return _through - _first + 1;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.trim_session(session_id text, max_events integer DEFAULT 1000)
 RETURNS TABLE(deleted bigint, first_seq bigint, more boolean)
 LANGUAGE plpgsql
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION starcite.update_session(id text, title text DEFAULT NULL::text, metadata jsonb DEFAULT NULL::jsonb, expected_version bigint DEFAULT NULL::bigint, archived boolean DEFAULT NULL::boolean, tenant_id text DEFAULT NULL::text)
 RETURNS starcite.sessions
 LANGUAGE plpgsql
AS $function$
declare
  _row starcite.sessions;
begin
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
$function$;

CREATE OR REPLACE FUNCTION starcite.update_webhook_endpoint(id text, url text DEFAULT NULL::text, session_ids text[] DEFAULT NULL::text[], types text[] DEFAULT NULL::text[], events boolean DEFAULT NULL::boolean, lifecycle boolean DEFAULT NULL::boolean, enabled boolean DEFAULT NULL::boolean, clear_sessions boolean DEFAULT false, clear_types boolean DEFAULT false, tenant_id text DEFAULT NULL::text)
 RETURNS starcite.webhook_endpoint_info
 LANGUAGE plpgsql
AS $function$
declare
  _row starcite.webhook_endpoints;
begin
  select w.* into _row from starcite.webhook_endpoints w
  where w.id = update_webhook_endpoint.id and w.tenant_id = starcite.resolve_tenant(update_webhook_endpoint.tenant_id)
  for update;
  if _row.id is null then
    perform starcite.raise_error('webhook_not_found', format('webhook endpoint %s does not exist', update_webhook_endpoint.id),
      jsonb_build_object('endpoint_id', update_webhook_endpoint.id));
  end if;
  perform starcite.check_webhook_fields(update_webhook_endpoint.url, update_webhook_endpoint.session_ids,
    update_webhook_endpoint.types, coalesce(update_webhook_endpoint.events, _row.events),
    coalesce(update_webhook_endpoint.lifecycle, _row.lifecycle));
  update starcite.webhook_endpoints w set
    url = coalesce(update_webhook_endpoint.url, w.url),
    session_ids = case when update_webhook_endpoint.clear_sessions then null
                       else coalesce((select array_agg(distinct x order by x) from unnest(update_webhook_endpoint.session_ids) x),
                                     w.session_ids) end,
    types = case when update_webhook_endpoint.clear_types then null
                 else coalesce((select array_agg(distinct x order by x) from unnest(update_webhook_endpoint.types) x),
                               w.types) end,
    events = coalesce(update_webhook_endpoint.events, w.events),
    lifecycle = coalesce(update_webhook_endpoint.lifecycle, w.lifecycle),
    enabled = coalesce(update_webhook_endpoint.enabled, w.enabled),
    updated_at = clock_timestamp()
  where w.id = _row.id
  returning w.* into _row;
  return starcite.webhook_endpoint_info(_row);
end
$function$;

CREATE OR REPLACE FUNCTION starcite.valid_scopes(scopes text[])
 RETURNS boolean
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$
  select coalesce(cardinality(valid_scopes.scopes), 0) > 0
     and valid_scopes.scopes <@ array(select s.name from starcite.scopes() s)
$function$;

CREATE OR REPLACE FUNCTION starcite.valid_session_id(id text)
 RETURNS boolean
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$
  select valid_session_id.id ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]*$'
     and char_length(valid_session_id.id) <= starcite.limit_value('session_id_chars')
$function$;

CREATE OR REPLACE FUNCTION starcite.valid_tenant_id(id text)
 RETURNS boolean
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$
  select valid_tenant_id.id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$'
     and char_length(valid_tenant_id.id) <= starcite.limit_value('tenant_id_chars')
$function$;

CREATE OR REPLACE FUNCTION starcite.webhook_backoff(attempts integer, base_ms integer DEFAULT 1000, max_ms integer DEFAULT 3600000)
 RETURNS interval
 LANGUAGE sql
AS $function$
  select make_interval(secs => least(webhook_backoff.max_ms::float8,
                                     webhook_backoff.base_ms * power(2, least(greatest(webhook_backoff.attempts - 1, 0), 30)))
                               * (0.8 + random() * 0.4) / 1000)
$function$;

CREATE OR REPLACE FUNCTION starcite.webhook_delivery_result(delivery_id text, ok boolean, status integer DEFAULT NULL::integer, error text DEFAULT NULL::text, base_ms integer DEFAULT 1000, max_ms integer DEFAULT 3600000)
 RETURNS SETOF starcite.webhook_deliveries
 LANGUAGE plpgsql
AS $function$
declare
  _d starcite.webhook_deliveries;
begin
  update starcite.webhook_deliveries d set
    attempts = d.attempts + 1,
    last_attempt_at = clock_timestamp(),
    last_status = webhook_delivery_result.status,
    last_error = left(webhook_delivery_result.error, 1000),
    status = case when webhook_delivery_result.ok then 'succeeded' else 'pending' end,
    delivered_at = case when webhook_delivery_result.ok then clock_timestamp() end,
    next_attempt_at = case when webhook_delivery_result.ok then d.next_attempt_at
                           else clock_timestamp() + starcite.webhook_backoff(d.attempts + 1, webhook_delivery_result.base_ms,
                                                                             webhook_delivery_result.max_ms) end
  where d.id = webhook_delivery_result.delivery_id and d.status = 'pending'
  returning d.* into _d;
  if _d.id is null then
    return;
  end if;
  if webhook_delivery_result.ok then
    if _d.session_id is null then
      update starcite.webhook_endpoints w set changes_delivered = greatest(w.changes_delivered, _d.to_seq)
      where w.id = _d.endpoint_id;
    else
      insert into starcite.webhook_cursors as c (endpoint_id, session_id, delivered_seq)
      values (_d.endpoint_id, _d.session_id, _d.to_seq)
      on conflict on constraint webhook_cursors_pkey do update
        set delivered_seq = greatest(c.delivered_seq, excluded.delivered_seq), updated_at = clock_timestamp();
    end if;
  end if;
  return next _d;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.webhook_due_sessions(endpoint_id text, max_sessions integer DEFAULT 100)
 RETURNS TABLE(session_id text)
 LANGUAGE sql
 STABLE
AS $function$
  select s.id
  from starcite.webhook_endpoints w
  join starcite.sessions s on s.tenant_id = w.tenant_id and (w.session_ids is null or s.id = any (w.session_ids))
  left join starcite.webhook_cursors c on c.endpoint_id = w.id and c.session_id = s.id
  where w.id = webhook_due_sessions.endpoint_id and w.enabled and w.events
    and s.last_seq > coalesce(c.delivered_seq, 0)
    and not exists (select 1 from starcite.webhook_deliveries d
                    where d.endpoint_id = w.id and d.session_id = s.id and d.status = 'pending'
                      and d.next_attempt_at > clock_timestamp())
  order by c.updated_at nulls first, s.id
  limit webhook_due_sessions.max_sessions
$function$;

CREATE OR REPLACE FUNCTION starcite.webhook_endpoint_ids()
 RETURNS SETOF text
 LANGUAGE sql
 STABLE
AS $function$
  select w.id from starcite.webhook_endpoints w where w.enabled order by w.id
$function$;

CREATE OR REPLACE FUNCTION starcite.webhook_endpoint_info(w starcite.webhook_endpoints)
 RETURNS starcite.webhook_endpoint_info
 LANGUAGE sql
 IMMUTABLE
AS $function$
  select row(w.id, w.tenant_id, w.url, w.session_ids, w.types, w.events, w.lifecycle, w.enabled,
             w.changes_delivered, w.created_at, w.updated_at)::starcite.webhook_endpoint_info
$function$;

CREATE OR REPLACE FUNCTION starcite.webhook_endpoints_due(endpoint_ids text[])
 RETURNS TABLE(endpoint_id text, changes_due boolean)
 LANGUAGE sql
 STABLE
AS $function$
  select w.id,
         w.lifecycle and starcite.last_change_seq(w.tenant_id) > w.changes_delivered
           and not exists (select 1 from starcite.webhook_deliveries d
                           where d.endpoint_id = w.id and d.session_id is null and d.status = 'pending'
                             and d.next_attempt_at > clock_timestamp())
  from starcite.webhook_endpoints w
  where w.id = any (webhook_endpoints_due.endpoint_ids) and w.enabled
$function$;

CREATE OR REPLACE FUNCTION starcite.webhook_event_json(e starcite.events)
 RETURNS jsonb
 LANGUAGE sql
 IMMUTABLE
AS $function$
  select jsonb_build_object('session_id', e.session_id, 'seq', e.seq, 'type', e.type, 'payload', e.payload,
                            'actor', e.actor, 'source', e.source, 'metadata', e.metadata, 'refs', e.refs,
                            'idempotency_key', e.idempotency_key, 'producer_id', e.producer_id,
                            'producer_seq', e.producer_seq,
                            'inserted_at', to_char(e.inserted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
$function$;

CREATE OR REPLACE FUNCTION starcite.webhook_next_delivery(endpoint_id text, session_id text DEFAULT NULL::text, max_items integer DEFAULT 100)
 RETURNS SETOF starcite.webhook_delivery_request
 LANGUAGE plpgsql
AS $function$
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
$function$;

-- Triggers

CREATE TRIGGER events_notify AFTER INSERT ON starcite.events REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION starcite.tg_events__notify();

CREATE TRIGGER sessions_changes AFTER INSERT OR DELETE OR UPDATE OF title, metadata, archived, version ON starcite.sessions FOR EACH ROW EXECUTE FUNCTION starcite.tg_sessions__record_change();

CREATE TRIGGER sessions_check BEFORE INSERT OR UPDATE OF id, title, metadata ON starcite.sessions FOR EACH ROW EXECUTE FUNCTION starcite.tg_sessions__check();
