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
  constraint events_body_check CHECK ((octet_length(body) <= starcite.limit_value('event_body_bytes'::text))),
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

-- Row Level Security policies

create policy api_keys_tenant_isolation on starcite.api_keys
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

CREATE INDEX ds_streams_forked_from_idx ON starcite.ds_streams USING btree (forked_from) WHERE (forked_from IS NOT NULL);

CREATE INDEX ds_subscription_links_path_idx ON starcite.ds_subscription_links USING btree (tenant_id, path);

CREATE INDEX ds_subscriptions_due_idx ON starcite.ds_subscriptions USING btree (LEAST(lease_until, next_attempt_at));

CREATE UNIQUE INDEX events_idempotency_idx ON starcite.events USING btree (session_id, idempotency_key) WHERE (idempotency_key IS NOT NULL);

CREATE UNIQUE INDEX events_producer_idx ON starcite.events USING btree (session_id, producer_id, producer_seq) WHERE (producer_id IS NOT NULL);

CREATE INDEX sessions_tenant_list_idx ON starcite.sessions USING btree (tenant_id, archived, id);

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
    where s.id = append.session_id and s.tenant_id = _tenant and s.closed_at is null
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
  _closed        boolean[];                -- and whether they are closed (a closed Durable Stream)
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
    select s.id, s.tenant_id, s.ctid, s.last_seq, s.closed_at, row_number() over (order by s.id) as k
    from (select s.id, s.tenant_id, s.ctid, s.last_seq, s.closed_at
          from starcite.sessions s
          where (s.id, s.tenant_id) in (select i.session_id, i.tenant_id from unnest(_items) i where i.problem is null)
          order by s.id
          for no key update) s)
  select array(select l.ctid from locked l order by l.k), array(select l.last_seq from locked l order by l.k),
         array(select l.closed_at is not null from locked l order by l.k),
         array(select l.k from unnest(_items) i
               left join locked l on l.id = i.session_id and l.tenant_id = i.tenant_id and i.problem is null
               order by i.idx),
         exists (select 1 from unnest(_items) i where i.idempotency_key is not null or i.producer_id is not null)
    into _rows, _lasts, _closed, _at, _keyed;

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

    if _err.code is null and _dup is null and _closed[_k] then
      _err := row('session_closed', format('session %s is closed', _item.session_id),
                  jsonb_build_object('session_id', _item.session_id, 'last_seq', _lasts[_k]));
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

CREATE OR REPLACE FUNCTION starcite.ds_ack(id text, wake_id text, generation bigint, acks jsonb, done boolean, tenant_id text)
 RETURNS TABLE(next_wake boolean, wake starcite.ds_wake)
 LANGUAGE plpgsql
AS $function$
declare
  _s starcite.ds_subscriptions;
  _w starcite.ds_wake;
begin
  _s := starcite.ds_fenced_subscription(ds_ack.id, ds_ack.wake_id, ds_ack.generation, ds_ack.tenant_id);
  perform starcite.ds_apply_acks(_s, ds_ack.acks);
  if ds_ack.done then
    _w := starcite.ds_release_lease(_s);
    return query select _w.wake_id is not null, _w;
    return;
  end if;
  update starcite.ds_subscriptions x set lease_until = now() + make_interval(secs => x.lease_ttl_ms / 1000.0)
  where x.tenant_id = _s.tenant_id and x.id = _s.id;
  return query select false, null::starcite.ds_wake;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_append(path text, content_type text DEFAULT NULL::text, messages jsonb DEFAULT NULL::jsonb, body bytea DEFAULT NULL::bytea, stream_seq text DEFAULT NULL::text, producer_id text DEFAULT NULL::text, producer_epoch bigint DEFAULT NULL::bigint, producer_seq bigint DEFAULT NULL::bigint, close boolean DEFAULT false, actor text DEFAULT NULL::text, tenant_id text DEFAULT NULL::text)
 RETURNS TABLE(outcome text, state starcite.ds_stream_state, epoch bigint, last_producer_seq bigint)
 LANGUAGE plpgsql
AS $function$
declare
  _tenant text := starcite.resolve_tenant(ds_append.tenant_id);
  _s      starcite.ds_streams;
  _state  starcite.ds_stream_state;
  _p      starcite.ds_producers;
  _msgs   jsonb := starcite.ds_messages(ds_append.messages);
  _data   boolean := ds_append.messages is not null or coalesce(octet_length(ds_append.body) > 0, false);
begin
  if (ds_append.producer_id is null) <> (ds_append.producer_epoch is null)
     or (ds_append.producer_id is null) <> (ds_append.producer_seq is null) then
    perform starcite.raise_error('invalid_argument', 'Producer-Id, Producer-Epoch and Producer-Seq go together',
      '{"field":"producer"}');
  end if;
  if ds_append.producer_id = '' or ds_append.producer_epoch < 0 or ds_append.producer_seq < 0
     or char_length(ds_append.producer_id) > starcite.limit_value('producer_id_chars') then
    perform starcite.raise_error('invalid_argument',
      format('Producer-Id is 1-%s characters; Producer-Epoch and Producer-Seq are integers >= 0',
             starcite.limit_value('producer_id_chars')),
      '{"field":"producer"}');
  end if;
  if not _data and not ds_append.close then
    perform starcite.raise_error('invalid_argument', 'an append needs a body (an empty one only with Stream-Closed: true)',
      '{"field":"body"}');
  end if;
  if _msgs is not null and jsonb_array_length(_msgs) = 0 then
    perform starcite.raise_error('invalid_argument', 'an empty JSON array appends nothing', '{"field":"body"}');
  end if;

  select d.* into _s from starcite.ds_streams d where d.path = ds_append.path
  order by d.incarnation desc limit 1 for update;
  perform starcite.ds_raise_unless_live(_s, ds_append.path, _tenant);
  _state := starcite.ds_state(_s);
  if ds_append.producer_id is not null then
    select p.* into _p from starcite.ds_producers p where p.session_id = _s.session_id and p.producer_id = ds_append.producer_id;
  end if;

  if _state.closed then
    if ds_append.producer_id is not null and _s.closed_by = jsonb_build_object('producer_id', ds_append.producer_id,
         'epoch', ds_append.producer_epoch, 'seq', ds_append.producer_seq) then
      return query select 'duplicate', _state, _p.epoch, _p.last_seq;
      return;
    elsif not _data and ds_append.close then
      return query select 'closed', _state, _p.epoch, _p.last_seq;
      return;
    end if;
    perform starcite.raise_error('session_closed', format('stream %s is closed', ds_append.path),
      jsonb_build_object('path', ds_append.path, 'offset_epoch', _s.offset_epoch, 'tail_seq', _state.tail_seq));
  end if;

  if _data and starcite.ds_media_type(coalesce(ds_append.content_type, '')) <> starcite.ds_media_type(_s.content_type) then
    perform starcite.raise_error('content_type_mismatch',
      format('stream %s has content type %s', ds_append.path, _s.content_type),
      jsonb_build_object('content_type', _s.content_type));
  end if;

  if ds_append.producer_id is not null then
    if _p.producer_id is not null and ds_append.producer_epoch < _p.epoch then
      perform starcite.raise_error('producer_epoch_stale',
        format('producer %s is at epoch %s', ds_append.producer_id, _p.epoch),
        jsonb_build_object('producer_id', ds_append.producer_id, 'current_epoch', _p.epoch));
    elsif (_p.producer_id is null or ds_append.producer_epoch > _p.epoch) and ds_append.producer_seq <> 0 then
      if _p.producer_id is null then
        perform starcite.raise_error('producer_seq_conflict',
          format('producer %s is new: its first seq is 0', ds_append.producer_id),
          jsonb_build_object('producer_id', ds_append.producer_id, 'expected_producer_seq', 0,
                             'received_producer_seq', ds_append.producer_seq));
      end if;
      perform starcite.raise_error('invalid_argument', 'a new producer epoch starts at Producer-Seq 0',
        jsonb_build_object('field', 'producer_seq', 'epoch', ds_append.producer_epoch));
    elsif _p.producer_id is not null and ds_append.producer_epoch = _p.epoch then
      if ds_append.producer_seq <= _p.last_seq then
        return query select 'duplicate', _state, _p.epoch, _p.last_seq;
        return;
      elsif ds_append.producer_seq > _p.last_seq + 1 then
        perform starcite.raise_error('producer_seq_conflict',
          format('producer %s expected seq %s, got %s', ds_append.producer_id, _p.last_seq + 1, ds_append.producer_seq),
          jsonb_build_object('producer_id', ds_append.producer_id, 'expected_producer_seq', _p.last_seq + 1,
                             'received_producer_seq', ds_append.producer_seq));
      end if;
    end if;
  end if;

  if ds_append.stream_seq is not null and _s.stream_seq is not null
     and ds_append.stream_seq collate "C" <= _s.stream_seq then
    perform starcite.raise_error('stream_seq_conflict',
      format('Stream-Seq %s is not greater than the last one, %s', ds_append.stream_seq, _s.stream_seq),
      jsonb_build_object('stream_seq', _s.stream_seq));
  end if;

  perform starcite.ds_insert(_s.session_id, _s.content_type, _msgs, case when _msgs is null then nullif(ds_append.body, ''::bytea) end,
                             ds_append.close, ds_append.actor);
  update starcite.ds_streams d
  set stream_seq = coalesce(ds_append.stream_seq, d.stream_seq), last_access_at = now(),
      closed_by = case when ds_append.close and ds_append.producer_id is not null
                       then jsonb_build_object('producer_id', ds_append.producer_id, 'epoch', ds_append.producer_epoch,
                                               'seq', ds_append.producer_seq) end
  where d.id = _s.id;
  if ds_append.producer_id is not null then
    insert into starcite.ds_producers as p (session_id, producer_id, epoch, last_seq)
    values (_s.session_id, ds_append.producer_id, ds_append.producer_epoch, ds_append.producer_seq)
    on conflict on constraint ds_producers_pkey do update
    set epoch = excluded.epoch, last_seq = excluded.last_seq, updated_at = clock_timestamp();
  end if;
  return query select 'appended', starcite.ds_state(_s), ds_append.producer_epoch, ds_append.producer_seq;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_apply_acks(s starcite.ds_subscriptions, acks jsonb)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
declare
  _ack  jsonb;
  _tail record;
begin
  for _ack in select a from jsonb_array_elements(coalesce(ds_apply_acks.acks, '[]')) a loop
    if not exists (select 1 from starcite.ds_subscription_links l
                   where l.tenant_id = s.tenant_id and l.subscription_id = s.id and l.path = _ack->>'path') then
      perform starcite.raise_error('invalid_argument', format('the subscription does not follow stream %s', _ack->>'path'),
        jsonb_build_object('field', 'acks', 'stream', _ack->>'path'));
    end if;
    select t.* into _tail from starcite.ds_stream_tail(s.tenant_id, _ack->>'path') t;
    if _tail.offset_epoch is null or (_ack->>'epoch')::bigint <> _tail.offset_epoch or (_ack->>'seq')::bigint > _tail.tail_seq then
      perform starcite.raise_error('invalid_argument', format('%s is not an offset of stream %s', _ack->>'seq', _ack->>'path'),
        jsonb_build_object('field', 'acks', 'stream', _ack->>'path'));
    end if;
    update starcite.ds_subscription_links l
    set acked_epoch = _tail.offset_epoch,
        acked_seq = case when l.acked_epoch = _tail.offset_epoch then greatest(l.acked_seq, (_ack->>'seq')::bigint)
                         else (_ack->>'seq')::bigint end
    where l.tenant_id = s.tenant_id and l.subscription_id = s.id and l.path = _ack->>'path';
  end loop;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_check_path(path text)
 RETURNS void
 LANGUAGE plpgsql
 STABLE
AS $function$
begin
  if ds_check_path.path is null or ds_check_path.path = '' or ds_check_path.path ~ '^/|/$|//' then
    perform starcite.raise_error('invalid_argument', 'a stream path is one or more non-empty segments separated by /',
      '{"field":"path"}');
  elsif ds_check_path.path ~ '(^|/)\.\.?(/|$)' or ds_check_path.path ~ '[[:cntrl:]]' then
    perform starcite.raise_error('invalid_argument', 'a stream path may not contain . or .. segments or control characters',
      '{"field":"path"}');
  elsif ds_check_path.path ~ '^__ds(/|$)' then
    perform starcite.raise_error('invalid_argument', 'stream paths under __ds/ are reserved for the protocol''s control APIs',
      '{"field":"path"}');
  elsif char_length(starcite.ds_session_id(ds_check_path.path, 1)) > starcite.limit_value('stream_path_chars') then
    perform starcite.raise_error('invalid_argument',
      format('the stream path is too long: its session id would have more than %s characters',
             starcite.limit_value('stream_path_chars')),
      jsonb_build_object('field', 'path', 'max', starcite.limit_value('stream_path_chars')));
  end if;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_check_subscription_id(id text)
 RETURNS void
 LANGUAGE plpgsql
 IMMUTABLE
AS $function$
begin
  if ds_check_subscription_id.id is null or ds_check_subscription_id.id !~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,255}$' then
    perform starcite.raise_error('invalid_argument',
      'a subscription id is 1-256 characters of [A-Za-z0-9_.:-], starting with a letter or digit', '{"field":"id"}');
  end if;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_claim(id text, worker text, tenant_id text DEFAULT NULL::text)
 RETURNS starcite.ds_wake
 LANGUAGE plpgsql
AS $function$
declare
  _tenant text := starcite.resolve_tenant(ds_claim.tenant_id);
  _s      starcite.ds_subscriptions;
  _w      starcite.ds_wake;
begin
  if coalesce(ds_claim.worker, '') = '' or char_length(ds_claim.worker) > 256 then
    perform starcite.raise_error('invalid_argument', 'worker is 1-256 characters', '{"field":"worker"}');
  end if;
  select x.* into _s from starcite.ds_subscriptions x where x.tenant_id = _tenant and x.id = ds_claim.id for update;
  if _s.id is null then
    perform starcite.raise_error('subscription_not_found', format('subscription %s does not exist', ds_claim.id),
      jsonb_build_object('id', ds_claim.id));
  end if;
  if _s.type <> 'pull-wake' then
    perform starcite.raise_error('invalid_argument', 'only pull-wake subscriptions are claimed', '{"field":"type"}');
  end if;
  if _s.wake_state = 'claimed' and _s.lease_until > now() then
    perform starcite.raise_error('subscription_claimed', format('worker %s holds the lease', _s.holder),
      jsonb_build_object('current_holder', _s.holder, 'generation', _s.generation));
  end if;
  if _s.wake_state = 'claimed' then
    -- Its lease ran out: the wake is over.
    update starcite.ds_subscriptions x set wake_state = 'idle', wake_id = null, holder = null, lease_until = null
    where x.tenant_id = _s.tenant_id and x.id = _s.id returning x.* into _s;
  end if;
  if _s.wake_state = 'idle' then
    _w := starcite.ds_issue_wake(_s);
    if _w.wake_id is null then
      perform starcite.raise_error('subscription_no_work', 'nothing is pending', jsonb_build_object('id', _s.id));
    end if;
    select x.* into _s from starcite.ds_subscriptions x where x.tenant_id = _tenant and x.id = ds_claim.id;
  end if;
  update starcite.ds_subscriptions x
  set wake_state = 'claimed', holder = ds_claim.worker, lease_until = now() + make_interval(secs => x.lease_ttl_ms / 1000.0)
  where x.tenant_id = _s.tenant_id and x.id = _s.id
  returning x.* into _s;
  return row(_s.tenant_id, _s.id, _s.type, _s.webhook_url, _s.base_url, _s.generation, _s.wake_id, _s.lease_ttl_ms, _s.holder,
             1, _s.wake_snapshot)::starcite.ds_wake;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_create(path text, content_type text DEFAULT NULL::text, ttl_seconds bigint DEFAULT NULL::bigint, expires_at timestamp with time zone DEFAULT NULL::timestamp with time zone, closed boolean DEFAULT false, messages jsonb DEFAULT NULL::jsonb, body bytea DEFAULT NULL::bytea, fork_path text DEFAULT NULL::text, fork_epoch bigint DEFAULT NULL::bigint, fork_seq bigint DEFAULT NULL::bigint, fork_sub_offset bigint DEFAULT 0, actor text DEFAULT NULL::text, tenant_id text DEFAULT NULL::text)
 RETURNS TABLE(created boolean, state starcite.ds_stream_state)
 LANGUAGE plpgsql
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_delete(path text, tenant_id text DEFAULT NULL::text)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
declare
  _tenant text := starcite.resolve_tenant(ds_delete.tenant_id);
  _s      starcite.ds_streams;
begin
  select d.* into _s from starcite.ds_streams d where d.path = ds_delete.path order by d.incarnation desc limit 1 for update;
  perform starcite.ds_raise_unless_live(_s, ds_delete.path, _tenant);
  update starcite.ds_streams d set deleted_at = now() where d.id = _s.id;
  delete from starcite.sessions x where x.id = _s.session_id;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_due_subscriptions(max_subscriptions integer DEFAULT 100)
 RETURNS TABLE(tenant_id text, subscription_id text)
 LANGUAGE sql
 STABLE
AS $function$
  select x.tenant_id, x.id from starcite.ds_subscriptions x
  where x.lease_until <= now() or x.next_attempt_at <= now()
     or (x.wake_state = 'idle' and exists (select 1 from starcite.ds_link_tails(x.tenant_id, x.id) t where t.has_pending))
  limit ds_due_subscriptions.max_subscriptions
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_expired(ttl_seconds bigint, expires_at timestamp with time zone, last_access_at timestamp with time zone)
 RETURNS boolean
 LANGUAGE sql
 STABLE PARALLEL SAFE
AS $function$
  select coalesce(ds_expired.expires_at <= now(), false)
      or coalesce(ds_expired.last_access_at + make_interval(secs => ds_expired.ttl_seconds) <= now(), false)
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_fenced_subscription(id text, wake_id text, generation bigint, tenant_id text)
 RETURNS starcite.ds_subscriptions
 LANGUAGE plpgsql
AS $function$
declare
  _s starcite.ds_subscriptions;
begin
  select x.* into _s from starcite.ds_subscriptions x
  where x.tenant_id = ds_fenced_subscription.tenant_id and x.id = ds_fenced_subscription.id for update;
  if _s.id is null then
    perform starcite.raise_error('subscription_not_found', format('subscription %s does not exist', ds_fenced_subscription.id),
      jsonb_build_object('id', ds_fenced_subscription.id));
  end if;
  if _s.wake_state <> 'claimed' or _s.wake_id is distinct from ds_fenced_subscription.wake_id
     or _s.generation is distinct from ds_fenced_subscription.generation then
    perform starcite.raise_error('subscription_fenced', 'that wake is not the current one',
      jsonb_build_object('id', _s.id, 'generation', _s.generation));
  end if;
  return _s;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_glob_regex(pattern text)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE STRICT
AS $function$
  select '^' || string_agg(case when s.seg = '**' then '(/[^/]+)*'
                                else '/' || replace(regexp_replace(s.seg, '([.+?^$()|\[\]{}\\])', '\\\1', 'g'), '*', '[^/]*') end,
                           '' order by s.i) || '$'
  from unnest(string_to_array(ds_glob_regex.pattern, '/')) with ordinality as s(seg, i)
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_has_live_fork(id bigint)
 RETURNS boolean
 LANGUAGE sql
 STABLE
AS $function$
  with recursive forks as (
    select f.id, f.deleted_at, f.ttl_seconds, f.expires_at, f.last_access_at
    from starcite.ds_streams f where f.forked_from = ds_has_live_fork.id
    union all
    select f.id, f.deleted_at, f.ttl_seconds, f.expires_at, f.last_access_at
    from starcite.ds_streams f join forks on f.forked_from = forks.id)
  select exists (select 1 from forks
                 where forks.deleted_at is null and not starcite.ds_expired(forks.ttl_seconds, forks.expires_at, forks.last_access_at))
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_insert(session_id text, content_type text, messages jsonb, body bytea, close boolean, actor text)
 RETURNS bigint
 LANGUAGE plpgsql
AS $function$
declare
  _n    integer := case when ds_insert.messages is not null then jsonb_array_length(ds_insert.messages)
                        when ds_insert.body is not null then 1 else 0 end;
  _last bigint;
begin
  if _n > starcite.limit_value('stream_messages_per_append') then
    perform starcite.raise_error('payload_too_large',
      format('at most %s messages per append, got %s', starcite.limit_value('stream_messages_per_append'), _n),
      jsonb_build_object('max', starcite.limit_value('stream_messages_per_append'), 'count', _n));
  end if;
  if ds_insert.messages is not null and exists (
       select 1 from jsonb_array_elements(ds_insert.messages) m(v)
       where octet_length(m.v::text) + case when jsonb_typeof(m.v) = 'object' then 0 else 11 end
             > starcite.limit_value('event_payload_bytes')) then
    perform starcite.raise_error('payload_too_large',
      format('a JSON message is over %s bytes', starcite.limit_value('event_payload_bytes')),
      jsonb_build_object('max', starcite.limit_value('event_payload_bytes')));
  end if;
  if octet_length(ds_insert.body) > starcite.limit_value('event_body_bytes') then
    perform starcite.raise_error('payload_too_large',
      format('the body is over %s bytes', starcite.limit_value('event_body_bytes')),
      jsonb_build_object('max', starcite.limit_value('event_body_bytes')));
  end if;
  if _n = 0 and not ds_insert.close then
    return (select x.last_seq - (x.closed_at is not null)::integer from starcite.sessions x where x.id = ds_insert.session_id);
  end if;

  update starcite.sessions x
  set last_seq = x.last_seq + _n + ds_insert.close::integer, updated_at = clock_timestamp(),
      closed_at = case when ds_insert.close then clock_timestamp() end
  where x.id = ds_insert.session_id and x.closed_at is null
  returning x.last_seq - ds_insert.close::integer into _last;
  if _last is null then
    perform starcite.raise_error('session_closed', format('session %s is closed', ds_insert.session_id),
      jsonb_build_object('session_id', ds_insert.session_id));
  end if;

  insert into starcite.events (session_id, seq, type, payload, actor, body)
  select ds_insert.session_id, _last - _n + m.i,
         case when jsonb_typeof(m.v) = 'object' then 'ds.message' else 'ds.value' end,
         case when jsonb_typeof(m.v) = 'object' then m.v else jsonb_build_object('value', m.v) end,
         ds_insert.actor, null
  from jsonb_array_elements(coalesce(ds_insert.messages, '[]')) with ordinality as m(v, i)
  union all
  select ds_insert.session_id, _last, 'ds.bytes', jsonb_build_object('content_type', ds_insert.content_type),
         ds_insert.actor, ds_insert.body
  where ds_insert.body is not null
  union all
  select ds_insert.session_id, _last + 1, 'ds.closed', '{}', ds_insert.actor, null
  where ds_insert.close;
  return _last;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_issue_wake(s starcite.ds_subscriptions)
 RETURNS starcite.ds_wake
 LANGUAGE plpgsql
AS $function$
declare
  _streams jsonb;
  _wake_id text := 'w_' || starcite.random_token(1);
begin
  select jsonb_agg(to_jsonb(t)) into _streams from starcite.ds_link_tails(s.tenant_id, s.id) t where t.has_pending;
  if _streams is null then
    return null;
  end if;
  update starcite.ds_subscriptions x
  set generation = x.generation + 1, wake_id = _wake_id, wake_snapshot = _streams,
      wake_state = case when x.type = 'webhook' then 'claimed' else 'woken' end,
      holder = case when x.type = 'webhook' then 'webhook' end,
      lease_until = case when x.type = 'webhook' then now() + make_interval(secs => x.lease_ttl_ms / 1000.0) end,
      attempts = 0, next_attempt_at = null
  where x.tenant_id = s.tenant_id and x.id = s.id
  returning x.* into s;
  if s.type = 'pull-wake' then
    begin
      perform starcite.ds_append(path => s.wake_stream, content_type => 'application/json',
        messages => (select jsonb_agg(jsonb_build_object('type', 'wake', 'subscription_id', s.id, 'stream', w->>'path',
                                                         'generation', s.generation,
                                                         'ts', floor(extract(epoch from clock_timestamp()) * 1000)))
                     from jsonb_array_elements(_streams) w),
        tenant_id => s.tenant_id);
    exception when others then
      -- A missing or closed wake stream loses the event, not the wake: workers can still claim it.
      raise warning 'starcite: could not write a wake event to stream % (%)', s.wake_stream, sqlerrm;
    end;
  end if;
  return row(s.tenant_id, s.id, s.type, s.webhook_url, s.base_url, s.generation, s.wake_id, s.lease_ttl_ms, s.holder, 1,
             _streams)::starcite.ds_wake;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_link_created(s starcite.ds_streams, acked_seq bigint)
 RETURNS void
 LANGUAGE sql
AS $function$
  update starcite.ds_subscription_links l set acked_epoch = s.offset_epoch, acked_seq = ds_link_created.acked_seq
  where l.tenant_id = s.tenant_id and l.path = s.path;
  insert into starcite.ds_subscription_links (tenant_id, subscription_id, path, glob, acked_epoch, acked_seq)
  select s.tenant_id, x.id, s.path, true, s.offset_epoch, ds_link_created.acked_seq
  from starcite.ds_subscriptions x
  where x.tenant_id = s.tenant_id and x.pattern_regex is not null and '/' || s.path ~ x.pattern_regex
  on conflict (tenant_id, subscription_id, path) do update set glob = true;
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_link_streams(id text, paths text[], tenant_id text DEFAULT NULL::text)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
declare
  _tenant text := starcite.resolve_tenant(ds_link_streams.tenant_id);
  _path   text;
begin
  if not exists (select 1 from starcite.ds_subscriptions x where x.tenant_id = _tenant and x.id = ds_link_streams.id) then
    perform starcite.raise_error('subscription_not_found', format('subscription %s does not exist', ds_link_streams.id),
      jsonb_build_object('id', ds_link_streams.id));
  end if;
  if cardinality(ds_link_streams.paths) > 1000 then
    perform starcite.raise_error('invalid_argument', 'at most 1000 streams per request', '{"field":"streams"}');
  end if;
  foreach _path in array coalesce(ds_link_streams.paths, '{}') loop
    perform starcite.ds_check_path(_path);
  end loop;
  insert into starcite.ds_subscription_links as l (tenant_id, subscription_id, path, explicit, acked_epoch, acked_seq)
  select _tenant, ds_link_streams.id, p.path, true, t.offset_epoch, coalesce(t.tail_seq, 0)
  from (select distinct unnest(ds_link_streams.paths) as path) p
  left join lateral starcite.ds_stream_tail(_tenant, p.path) t on true
  on conflict on constraint ds_subscription_links_pkey do update set explicit = true;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_link_tails(tenant_id text, subscription_id text)
 RETURNS TABLE(path text, link_type text, acked_epoch bigint, acked_seq bigint, tail_epoch bigint, tail_seq bigint, has_pending boolean)
 LANGUAGE sql
 STABLE
AS $function$
  select l.path, case when l.explicit then 'explicit' else 'glob' end, l.acked_epoch, l.acked_seq, t.offset_epoch, t.tail_seq,
         coalesce(t.tail_seq > case when l.acked_epoch = t.offset_epoch then l.acked_seq else 0 end, false)
  from starcite.ds_subscription_links l
  left join lateral starcite.ds_stream_tail(l.tenant_id, l.path) t on true
  where l.tenant_id = ds_link_tails.tenant_id and l.subscription_id = ds_link_tails.subscription_id
  order by l.path
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_media_type(content_type text)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE STRICT
AS $function$
  select lower(btrim(split_part(ds_media_type.content_type, ';', 1)))
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_messages(document jsonb)
 RETURNS jsonb
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE STRICT
AS $function$
  select case when jsonb_typeof(ds_messages.document) = 'array' then ds_messages.document
              else jsonb_build_array(ds_messages.document) end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_raise_unless_live(s starcite.ds_streams, path text, tenant_id text)
 RETURNS void
 LANGUAGE plpgsql
 STABLE
AS $function$
begin
  if s.id is null or s.tenant_id <> ds_raise_unless_live.tenant_id then
    perform starcite.raise_error('session_not_found', format('stream %s does not exist', ds_raise_unless_live.path),
      jsonb_build_object('path', ds_raise_unless_live.path));
  elsif s.deleted_at is not null or starcite.ds_expired(s.ttl_seconds, s.expires_at, s.last_access_at) then
    if starcite.ds_has_live_fork(s.id) then
      perform starcite.raise_error('stream_gone',
        format('stream %s was deleted or expired; its forks still use it', ds_raise_unless_live.path),
        jsonb_build_object('path', ds_raise_unless_live.path));
    end if;
    perform starcite.raise_error('session_not_found', format('stream %s does not exist', ds_raise_unless_live.path),
      jsonb_build_object('path', ds_raise_unless_live.path));
  end if;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_read(session_id text, after_seq bigint, max_events integer, max_bytes bigint, tenant_id text DEFAULT NULL::text)
 RETURNS SETOF starcite.events
 LANGUAGE plpgsql
 STABLE
AS $function$
begin
  perform starcite.check_page_size(ds_read.max_events, 'events_per_read');
  if not exists (select 1 from starcite.sessions s
                 where s.id = ds_read.session_id and s.tenant_id = starcite.resolve_tenant(ds_read.tenant_id)) then
    perform starcite.raise_error('session_not_found', format('session %s does not exist', ds_read.session_id),
      jsonb_build_object('session_id', ds_read.session_id));
  end if;
  return query
    select (p.e).* from (
      select q.e, q.size, sum(q.size) over (order by (q.e).seq) as running
      from (select e, pg_column_size(e.payload) + coalesce(octet_length(e.body), 0) as size
            from starcite.events e
            where e.session_id = ds_read.session_id and e.seq > ds_read.after_seq
            order by e.seq
            limit ds_read.max_events) q) p
    where p.running - p.size < ds_read.max_bytes
    order by (p.e).seq;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_release(id text, wake_id text, generation bigint, tenant_id text)
 RETURNS SETOF starcite.ds_wake
 LANGUAGE plpgsql
AS $function$
declare
  _w starcite.ds_wake;
begin
  _w := starcite.ds_release_lease(starcite.ds_fenced_subscription(ds_release.id, ds_release.wake_id, ds_release.generation,
                                                                  ds_release.tenant_id));
  if _w.wake_id is not null then
    return next _w;
  end if;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_release_lease(s starcite.ds_subscriptions)
 RETURNS starcite.ds_wake
 LANGUAGE plpgsql
AS $function$
begin
  update starcite.ds_subscriptions x
  set wake_state = 'idle', wake_id = null, holder = null, lease_until = null, wake_snapshot = null, attempts = 0,
      next_attempt_at = null
  where x.tenant_id = s.tenant_id and x.id = s.id
  returning x.* into s;
  return starcite.ds_issue_wake(s);
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_resolve(path text, touch boolean DEFAULT true, tenant_id text DEFAULT NULL::text)
 RETURNS starcite.ds_stream_state
 LANGUAGE plpgsql
AS $function$
declare
  _tenant text := starcite.resolve_tenant(ds_resolve.tenant_id);
  _s      starcite.ds_streams;
begin
  select d.* into _s from starcite.ds_streams d where d.path = ds_resolve.path order by d.incarnation desc limit 1;
  perform starcite.ds_raise_unless_live(_s, ds_resolve.path, _tenant);
  if ds_resolve.touch and _s.ttl_seconds is not null then
    update starcite.ds_streams d set last_access_at = now() where d.id = _s.id;
  end if;
  return starcite.ds_state(_s);
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_session_id(path text, incarnation integer)
 RETURNS text
 LANGUAGE sql
 STABLE PARALLEL SAFE STRICT
AS $function$
  select 'ds:'
    || coalesce((select string_agg(case when t.c ~ '^[A-Za-z0-9.-]$' then t.c
                                        when t.c = '/' then ':'
                                        else regexp_replace(upper(encode(convert_to(t.c, 'UTF8'), 'hex')), '(..)', '_\1', 'g')
                                   end, '' order by t.i)
                 from regexp_split_to_table(ds_session_id.path, '') with ordinality as t(c, i)), '')
    || case when ds_session_id.incarnation > 1 then '__' || ds_session_id.incarnation else '' end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_settle(s starcite.ds_streams)
 RETURNS starcite.ds_streams
 LANGUAGE plpgsql
AS $function$
begin
  if s.deleted_at is null and starcite.ds_expired(s.ttl_seconds, s.expires_at, s.last_access_at) then
    update starcite.ds_streams d set deleted_at = now() where d.id = s.id returning d.* into s;
    delete from starcite.sessions x where x.id = s.session_id;
  end if;
  return s;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_state(s starcite.ds_streams)
 RETURNS starcite.ds_stream_state
 LANGUAGE sql
 STABLE
AS $function$
  select row(s.session_id, s.offset_epoch, s.content_type, s.ttl_seconds, s.expires_at,
             x.last_seq - (x.closed_at is not null)::integer, x.closed_at is not null)::starcite.ds_stream_state
  from starcite.sessions x where x.id = s.session_id
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_stream_tail(tenant_id text, path text)
 RETURNS TABLE(offset_epoch bigint, tail_seq bigint)
 LANGUAGE sql
 STABLE
AS $function$
  select d.offset_epoch, x.last_seq - (x.closed_at is not null)::integer
  from (select d.* from starcite.ds_streams d
        where d.tenant_id = ds_stream_tail.tenant_id and d.path = ds_stream_tail.path
        order by d.incarnation desc limit 1) d
  join starcite.sessions x on x.id = d.session_id
  where d.deleted_at is null and not starcite.ds_expired(d.ttl_seconds, d.expires_at, d.last_access_at)
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_subscribe(id text, type text, pattern text DEFAULT NULL::text, streams text[] DEFAULT NULL::text[], webhook_url text DEFAULT NULL::text, wake_stream text DEFAULT NULL::text, lease_ttl_ms integer DEFAULT 30000, description text DEFAULT NULL::text, base_url text DEFAULT ''::text, tenant_id text DEFAULT NULL::text)
 RETURNS boolean
 LANGUAGE plpgsql
AS $function$
declare
  _tenant  text := starcite.resolve_tenant(ds_subscribe.tenant_id);
  _streams text[] := array(select distinct s from unnest(coalesce(ds_subscribe.streams, '{}')) s order by s);
  _hash    text;
  _old     text;
  _path    text;
begin
  perform starcite.ds_check_subscription_id(ds_subscribe.id);
  if ds_subscribe.type is null or ds_subscribe.type not in ('webhook', 'pull-wake') then
    perform starcite.raise_error('invalid_argument', 'type is webhook or pull-wake', '{"field":"type"}');
  elsif ds_subscribe.pattern is null and cardinality(_streams) = 0 then
    perform starcite.raise_error('invalid_argument', 'a subscription needs a pattern or streams', '{"field":"pattern"}');
  elsif ds_subscribe.pattern = '' or ds_subscribe.pattern ~ '^/|/$|//|[[:cntrl:]]' then
    perform starcite.raise_error('invalid_argument', 'a pattern is one or more non-empty segments separated by /',
      '{"field":"pattern"}');
  elsif ds_subscribe.type = 'webhook' and coalesce(ds_subscribe.webhook_url, '') = '' then
    perform starcite.raise_error('invalid_argument', 'a webhook subscription needs webhook.url', '{"field":"webhook"}');
  elsif ds_subscribe.type = 'pull-wake' and ds_subscribe.wake_stream is null then
    perform starcite.raise_error('invalid_argument', 'a pull-wake subscription needs wake_stream', '{"field":"wake_stream"}');
  elsif ds_subscribe.lease_ttl_ms is null or ds_subscribe.lease_ttl_ms not between 1000 and 600000 then
    perform starcite.raise_error('invalid_argument', 'lease_ttl_ms is 1000 to 600000', '{"field":"lease_ttl_ms"}');
  elsif char_length(ds_subscribe.description) > 1000 then
    perform starcite.raise_error('invalid_argument', 'description is at most 1000 characters', '{"field":"description"}');
  elsif cardinality(_streams) > 1000 then
    perform starcite.raise_error('invalid_argument', 'at most 1000 streams per request', '{"field":"streams"}');
  end if;
  foreach _path in array _streams loop
    perform starcite.ds_check_path(_path);
  end loop;
  if ds_subscribe.wake_stream is not null then
    perform starcite.ds_check_path(ds_subscribe.wake_stream);
  end if;

  _hash := md5(jsonb_build_object('type', ds_subscribe.type, 'pattern', ds_subscribe.pattern, 'streams', to_jsonb(_streams),
                                  'webhook_url', case when ds_subscribe.type = 'webhook' then ds_subscribe.webhook_url end,
                                  'wake_stream', case when ds_subscribe.type = 'pull-wake' then ds_subscribe.wake_stream end,
                                  'lease_ttl_ms', ds_subscribe.lease_ttl_ms, 'description', ds_subscribe.description)::text);
  insert into starcite.ds_subscriptions (tenant_id, id, type, pattern, pattern_regex, webhook_url, wake_stream,
                                         lease_ttl_ms, description, config_hash, base_url)
  values (_tenant, ds_subscribe.id, ds_subscribe.type, ds_subscribe.pattern, starcite.ds_glob_regex(ds_subscribe.pattern),
          case when ds_subscribe.type = 'webhook' then ds_subscribe.webhook_url end,
          case when ds_subscribe.type = 'pull-wake' then ds_subscribe.wake_stream end,
          ds_subscribe.lease_ttl_ms, ds_subscribe.description, _hash, ds_subscribe.base_url)
  on conflict on constraint ds_subscriptions_pkey do nothing;
  if not found then
    select x.config_hash into _old from starcite.ds_subscriptions x where x.tenant_id = _tenant and x.id = ds_subscribe.id;
    if _old = _hash then
      return false;
    end if;
    perform starcite.raise_error('subscription_conflict',
      format('subscription %s exists with another configuration', ds_subscribe.id), jsonb_build_object('id', ds_subscribe.id));
  end if;

  if ds_subscribe.pattern is not null then
    insert into starcite.ds_subscription_links (tenant_id, subscription_id, path, glob, acked_epoch, acked_seq)
    select _tenant, ds_subscribe.id, d.path, true, t.offset_epoch, t.tail_seq
    from (select distinct d.path from starcite.ds_streams d
          where d.tenant_id = _tenant and '/' || d.path ~ starcite.ds_glob_regex(ds_subscribe.pattern)) d
    join lateral starcite.ds_stream_tail(_tenant, d.path) t on true;
  end if;
  perform starcite.ds_link_streams(ds_subscribe.id, _streams, _tenant);
  return true;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_subscription(id text, tenant_id text DEFAULT NULL::text)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
AS $function$
declare
  _tenant text := starcite.resolve_tenant(ds_subscription.tenant_id);
  _doc    jsonb;
begin
  select jsonb_build_object('id', x.id, 'type', x.type, 'pattern', x.pattern, 'webhook_url', x.webhook_url,
           'wake_stream', x.wake_stream, 'lease_ttl_ms', x.lease_ttl_ms, 'description', x.description,
           'created_at', x.created_at, 'base_url', x.base_url, 'generation', x.generation,
           'status', case when x.attempts > 0 then 'failed' else 'active' end,
           'streams', coalesce((select jsonb_agg(to_jsonb(t)) from starcite.ds_link_tails(x.tenant_id, x.id) t), '[]'))
  into _doc
  from starcite.ds_subscriptions x where x.tenant_id = _tenant and x.id = ds_subscription.id;
  if _doc is null then
    perform starcite.raise_error('subscription_not_found', format('subscription %s does not exist', ds_subscription.id),
      jsonb_build_object('id', ds_subscription.id));
  end if;
  return _doc;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_sweep(max_streams integer DEFAULT 100)
 RETURNS integer
 LANGUAGE plpgsql
AS $function$
declare
  _s     starcite.ds_streams;
  _count integer := 0;
begin
  for _s in
    select d.* from starcite.ds_streams d
    where d.deleted_at is null and (d.ttl_seconds is not null or d.expires_at is not null)
      and starcite.ds_expired(d.ttl_seconds, d.expires_at, d.last_access_at)
    limit ds_sweep.max_streams
    for update skip locked
  loop
    perform starcite.ds_settle(_s);
    _count := _count + 1;
  end loop;
  return _count;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_tick(id text, tenant_id text)
 RETURNS SETOF starcite.ds_wake
 LANGUAGE plpgsql
AS $function$
declare
  _s starcite.ds_subscriptions;
  _w starcite.ds_wake;
begin
  select x.* into _s from starcite.ds_subscriptions x where x.tenant_id = ds_tick.tenant_id and x.id = ds_tick.id
  for update skip locked;
  if _s.id is null then
    return;
  end if;
  if _s.next_attempt_at <= now() and _s.wake_state = 'claimed' and _s.holder = 'webhook'
     and (_s.lease_until is null or _s.lease_until > now()) then
    update starcite.ds_subscriptions x set next_attempt_at = now() + interval '30 seconds'
    where x.tenant_id = _s.tenant_id and x.id = _s.id;
    return next row(_s.tenant_id, _s.id, _s.type, _s.webhook_url, _s.base_url, _s.generation, _s.wake_id, _s.lease_ttl_ms,
                    _s.holder, _s.attempts + 1, _s.wake_snapshot)::starcite.ds_wake;
    return;
  end if;
  if _s.lease_until <= now() then
    update starcite.ds_subscriptions x
    set wake_state = 'idle', wake_id = null, holder = null, lease_until = null, wake_snapshot = null
    where x.tenant_id = _s.tenant_id and x.id = _s.id
    returning x.* into _s;
  end if;
  if _s.wake_state = 'idle' then
    _w := starcite.ds_issue_wake(_s);
    if _w.wake_id is not null then
      return next _w;
    end if;
  end if;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_unlink_stream(id text, path text, tenant_id text DEFAULT NULL::text)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
declare
  _tenant text := starcite.resolve_tenant(ds_unlink_stream.tenant_id);
begin
  if not exists (select 1 from starcite.ds_subscriptions x where x.tenant_id = _tenant and x.id = ds_unlink_stream.id) then
    perform starcite.raise_error('subscription_not_found', format('subscription %s does not exist', ds_unlink_stream.id),
      jsonb_build_object('id', ds_unlink_stream.id));
  end if;
  delete from starcite.ds_subscription_links l
  where l.tenant_id = _tenant and l.subscription_id = ds_unlink_stream.id and l.path = ds_unlink_stream.path and not l.glob;
  update starcite.ds_subscription_links l set explicit = false
  where l.tenant_id = _tenant and l.subscription_id = ds_unlink_stream.id and l.path = ds_unlink_stream.path;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_unsubscribe(id text, tenant_id text DEFAULT NULL::text)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
begin
  delete from starcite.ds_subscriptions x
  where x.tenant_id = starcite.resolve_tenant(ds_unsubscribe.tenant_id) and x.id = ds_unsubscribe.id;
  if not found then
    perform starcite.raise_error('subscription_not_found', format('subscription %s does not exist', ds_unsubscribe.id),
      jsonb_build_object('id', ds_unsubscribe.id));
  end if;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_wake(id text, tenant_id text)
 RETURNS SETOF starcite.ds_wake
 LANGUAGE plpgsql
AS $function$
declare
  _s starcite.ds_subscriptions;
  _w starcite.ds_wake;
begin
  select x.* into _s from starcite.ds_subscriptions x
  where x.tenant_id = ds_wake.tenant_id and x.id = ds_wake.id and x.wake_state = 'idle' for update;
  if _s.id is not null then
    _w := starcite.ds_issue_wake(_s);
    if _w.wake_id is not null then
      return next _w;
    end if;
  end if;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_wake_candidates(session_ids text[])
 RETURNS TABLE(tenant_id text, subscription_id text)
 LANGUAGE sql
 STABLE
AS $function$
  select distinct l.tenant_id, l.subscription_id
  from starcite.ds_streams d
  join starcite.ds_subscription_links l on l.tenant_id = d.tenant_id and l.path = d.path
  join starcite.ds_subscriptions x on x.tenant_id = l.tenant_id and x.id = l.subscription_id
  where d.session_id = any(ds_wake_candidates.session_ids) and x.wake_state = 'idle'
$function$;

CREATE OR REPLACE FUNCTION starcite.ds_webhook_result(id text, wake_id text, generation bigint, delivered boolean, done boolean, tenant_id text)
 RETURNS SETOF starcite.ds_wake
 LANGUAGE plpgsql
AS $function$
declare
  _s     starcite.ds_subscriptions;
  _w     starcite.ds_wake;
  _delay double precision;
begin
  select x.* into _s from starcite.ds_subscriptions x
  where x.tenant_id = ds_webhook_result.tenant_id and x.id = ds_webhook_result.id
    and x.wake_id = ds_webhook_result.wake_id and x.generation = ds_webhook_result.generation and x.wake_state = 'claimed'
  for update;
  if _s.id is null then
    return;
  end if;
  if not ds_webhook_result.delivered then
    _delay := least(60, 2 ^ _s.attempts) * (0.8 + random() * 0.4);
    update starcite.ds_subscriptions x
    set attempts = x.attempts + 1, next_attempt_at = now() + make_interval(secs => _delay),
        lease_until = greatest(x.lease_until, now() + make_interval(secs => _delay + x.lease_ttl_ms / 1000.0))
    where x.tenant_id = _s.tenant_id and x.id = _s.id;
    return;
  end if;
  if not ds_webhook_result.done then
    update starcite.ds_subscriptions x set attempts = 0, next_attempt_at = null
    where x.tenant_id = _s.tenant_id and x.id = _s.id;
    return;
  end if;
  perform starcite.ds_apply_acks(_s, (select coalesce(jsonb_agg(jsonb_build_object('path', w->>'path', 'epoch', w->'tail_epoch',
                                                                                    'seq', w->'tail_seq')), '[]')
                                      from jsonb_array_elements(_s.wake_snapshot) w));
  _w := starcite.ds_release_lease(_s);
  if _w.wake_id is not null then
    return next _w;
  end if;
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
    ('session_closed',           'SC103', 409, 'an append to a closed session (a Durable Stream closed with `Stream-Closed: true`; detail: its tail)'),
    ('expected_seq_conflict',    'SC200', 409, '`expected_seq` ≠ the session''s `last_seq` (detail: `last_seq`)'),
    ('producer_seq_conflict',    'SC201', 409, '`producer_seq` is not the producer''s last + 1 (detail: `expected_producer_seq`)'),
    ('producer_replay_conflict', 'SC202', 409, 'a used `producer_seq` with different content (detail: original `seq`)'),
    ('idempotency_conflict',     'SC203', 409, 'a used `idempotency_key` with different content'),
    ('unauthorized',             'SC300', 401, 'missing, unknown, revoked or expired credential'),
    ('forbidden_scope',          'SC301', 403, 'the credential lacks the scope (or is a session token doing a backend''s job), or grants a scope it does not hold'),
    ('token_expired',            'SC302', 401, 'the session token expired (a tail ends with it: refresh and resume from the cursor)'),
    ('forbidden_actor',          'SC303', 403, 'a session token tried to append as someone else'),
    ('key_not_found',            'SC304', 404, 'revoking an unknown key'),
    ('stream_conflict',          'SC400', 409, 'Durable Streams: a PUT whose content type, TTL, expiry, closure or fork differs from the existing stream''s, or on a path that is deleted but still has forks'),
    ('content_type_mismatch',    'SC401', 409, 'Durable Streams: the request''s content type is not the stream''s'),
    ('stream_seq_conflict',      'SC402', 409, 'Durable Streams: `Stream-Seq` not greater (byte-wise) than the last one accepted'),
    ('producer_epoch_stale',     'SC403', 403, 'Durable Streams: `Producer-Epoch` below the producer''s current epoch (detail: `current_epoch`)'),
    ('stream_gone',              'SC404', 410, 'Durable Streams: the stream was deleted or expired but forks still use it, or the offset belongs to data that was deleted'),
    ('subscription_not_found',   'SC410', 404, 'Durable Streams: no such subscription'),
    ('subscription_conflict',    'SC411', 409, 'Durable Streams: a subscription PUT whose configuration differs from the existing one''s'),
    ('subscription_fenced',      'SC412', 409, 'Durable Streams: a callback, ack or release for a wake that is no longer current'),
    ('subscription_claimed',     'SC413', 409, 'Durable Streams: another worker holds the subscription''s lease (detail: `current_holder`, `generation`)'),
    ('subscription_no_work',     'SC414', 409, 'Durable Streams: a claim of a subscription with nothing pending'),
    ('webhook_url_rejected',     null,    400, 'Durable Streams: a webhook URL that is not https, or targets a private, link-local or loopback host (http on localhost is allowed outside production)'),
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

CREATE OR REPLACE FUNCTION starcite.generate_session_id()
 RETURNS text
 LANGUAGE sql
AS $function$
  select 'ses_' || rtrim(translate(encode(uuid_send(gen_random_uuid()), 'base64'), '+/', '-_'), '=')
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
             item.idempotency_key, item.producer_id, item.producer_seq, null, null)::starcite.events
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
    ('event_body_bytes',       8388608, 'bytes of an event''s binary `body` (a message of a non-JSON Durable Stream), and of a Durable Streams request body'),
    ('event_actor_chars',      256,    'characters in an event''s `actor`'),
    ('event_source_chars',     256,    'characters in an event''s `source`'),
    ('idempotency_key_chars',  256,    'characters in an `idempotency_key` (at least 1)'),
    ('producer_id_chars',      256,    'characters in a `producer_id` (at least 1)'),
    ('events_per_call',        1000,   'events in one `append_batch` or `append_items` call'),
    ('events_per_read',        1000,   '`max_events` of one `read`'),
    ('sessions_per_list',      1000,   '`max_sessions` of one `list_sessions`'),
    ('api_key_name_chars',     200,    'characters in an API key''s name (at least 1)'),
    ('stream_path_chars',      120,    'characters of a Durable Stream path''s session id (`ds:` + the escaped path; 8 more are kept for the incarnation suffix)'),
    ('stream_messages_per_append', 50000, 'messages in one Durable Streams JSON append (after flattening one array level)'),
    ('stream_ttl_seconds',     315360000, 'a Durable Stream''s `Stream-TTL` in seconds (ten years)')
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
  return query
    select e.* from starcite.events e
    where e.session_id = read.session_id and e.seq > read.after_seq
    order by e.seq
    limit read.max_events;
end
$function$;

CREATE OR REPLACE FUNCTION starcite.resolve_tenant(tenant_id text)
 RETURNS text
 LANGUAGE sql
 STABLE PARALLEL SAFE
AS $function$
  select coalesce(resolve_tenant.tenant_id, starcite.current_tenant())
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
    ('admin',          false, false, 'manage any tenant''s keys (the development key has it)')
$function$;
comment on function starcite.scopes() is 'Every scope a credential can hold: a new key''s default, whether a session token may carry it, what it allows.';

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

-- Triggers

CREATE TRIGGER events_notify AFTER INSERT ON starcite.events REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION starcite.tg_events__notify();

CREATE TRIGGER sessions_check BEFORE INSERT OR UPDATE OF id, title, metadata ON starcite.sessions FOR EACH ROW EXECUTE FUNCTION starcite.tg_sessions__check();
