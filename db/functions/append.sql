-- Appends one event. The common case -- an event starcite.check_event accepts, without idempotency_key or
-- expected_seq, and either no producer or the producer's next producer_seq -- runs directly: bump the
-- session's counter row (which locks it until commit), insert, done. Everything else (an invalid event, an
-- unknown session, a producer retry or gap, keys, expected_seq) goes to append_items, after giving back its own
-- bump under the same lock, so that the engine is the one place that reports errors and decides dedup. A closed
-- session matches no row here, so the engine reports it too.
create function starcite.append(session_id text, type text, payload jsonb, actor text default null,
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
$$;
