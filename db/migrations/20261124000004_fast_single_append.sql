-- migrate:up

-- starcite.append used to wrap its event in JSON and run the general engine (append_items), which costs
-- about twice a bare INSERT per call. Now the common single append runs directly: bump the counter row
-- (which locks it until commit), insert, done. Everything else -- any argument the engine would reject, a
-- producer_seq that is not simply the next one, idempotency keys, expected_seq -- first undoes nothing (or
-- its own bump, still under the same lock) and hands the event to append_items, so the engine remains the
-- one place that decides dedup, conflicts and error codes.

create or replace function starcite.append(session_id text, type text, payload jsonb, actor text default null,
                                           source text default null, metadata jsonb default null, refs jsonb default null,
                                           idempotency_key text default null, producer_id text default null,
                                           producer_seq bigint default null, expected_seq bigint default null,
                                           tenant_id text default null)
returns table (seq bigint, last_seq bigint, deduped boolean)
language plpgsql volatile as $$
declare
  _tenant text := starcite.resolve_tenant(append.tenant_id);
  _last bigint;
  _plast bigint;
  _simple boolean;
begin
  -- Only shapes append_items would certainly accept take the direct path.
  _simple := append.idempotency_key is null and append.expected_seq is null
    and (append.producer_id is null) = (append.producer_seq is null)
    and (append.producer_id is null or (append.producer_id <> '' and char_length(append.producer_id) <= 256
                                         and append.producer_seq >= 1))
    and append.type <> '' and char_length(append.type) <= 128
    and jsonb_typeof(append.payload) = 'object' and octet_length(append.payload::text) <= 262144
    and (append.metadata is null or (jsonb_typeof(append.metadata) in ('object', 'null')
                                     and octet_length(append.metadata::text) <= 16384))
    and (append.refs is null or (jsonb_typeof(append.refs) in ('object', 'array', 'null')
                                 and octet_length(append.refs::text) <= 16384))
    and coalesce(char_length(append.actor), 0) <= 256 and coalesce(char_length(append.source), 0) <= 256;

  if coalesce(_simple, false) then
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
        _simple := false;
      end if;
    end if;

    if _last is not null then
      insert into starcite.events (session_id, seq, type, payload, actor, source, metadata, refs, producer_id, producer_seq)
      values (append.session_id, _last, append.type, append.payload, append.actor, append.source,
              nullif(append.metadata, 'null'), nullif(append.refs, 'null'), append.producer_id, append.producer_seq);
      return query select _last, _last, false;
      return;
    end if;
  end if;

  -- The engine: precise errors (session_not_found included), dedup and conflicts.
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
$$;

-- migrate:down

create or replace function starcite.append(session_id text, type text, payload jsonb, actor text default null,
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
