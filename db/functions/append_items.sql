-- The append engine behind every append. items is a JSON array of objects with the keys
--   session_id, type (default content), payload, actor, source, metadata, refs, idempotency_key,
--   producer_id, producer_seq, expected_seq, tenant_id (default starcite.current_tenant())
-- and the result has one row per item, in input order.
--
-- Every touched session is locked (in id order, so concurrent multi-session calls cannot deadlock) until the
-- caller commits. Items are decoded and checked as a set; one loop then walks the checked items in input
-- order and decides each one's seq, dedup or conflict from facts read beforehand under the locks; the new
-- events go in with ONE insert (so the notify trigger fires once per session per call) and each session's
-- counter row is updated once. With atomic = true the first failing item raises its error and nothing is
-- written; otherwise a failing item is reported in its row and the others still append. Nothing raises per
-- item, so no subtransaction is ever opened.
--
-- Generic plans: with custom ones, Postgres would plan these statements anew on every call (it sizes each
-- plan to the arrays it is given), which costs more than running them.
create function starcite.append_items(items jsonb, atomic boolean default false)
returns setof starcite.append_result
language plpgsql volatile
set plan_cache_mode = force_generic_plan
as $$
declare
  _n             integer;
  _items         starcite.append_item[];  -- decoded and checked, by idx
  _sessions      text[];                  -- the locked sessions, in id order,
  _tenants       text[];                  -- their tenants,
  _rows          tid[];                   -- their rows (which the lock keeps where they are)
  _lasts         bigint[];                -- and their running last_seq
  -- The outcome per item, by idx.
  _errors        starcite.append_error[];  -- why a checked item failed (decode failures stay in _items)
  _seqs          bigint[];                -- its seq (the original one when deduped)
  _last_seqs     bigint[];                -- its session's last_seq after it
  _new           boolean[];               -- appended by this call
  _deduped       boolean[];
  -- What later items with the same key continue from, by idx.
  _key_owner     integer[];               -- the item of this call that appended its idempotency key
  _seq_owner     integer[];               -- the item of this call that appended its producer_seq
  _producer_last bigint[];                -- its producer's last producer_seq after it
  _appended      boolean := false;
  _s             record;
  _err           starcite.append_error;
  _dup           bigint;                  -- the seq of the event this item repeats
  _found         bigint;
  _same          boolean;
  _owner         integer;
  _plast         bigint;
  _k             integer;
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

  _items := starcite.decode_items(items, starcite.current_tenant());
  _new := array_fill(false, array[_n]);
  _deduped := array_fill(false, array[_n]);

  select coalesce(array_agg(l.id order by l.id), '{}'), coalesce(array_agg(l.tenant_id order by l.id), '{}'),
         coalesce(array_agg(l.ctid order by l.id), '{}'), coalesce(array_agg(l.last_seq order by l.id), '{}')
    into _sessions, _tenants, _rows, _lasts
  from (select s.id, s.tenant_id, s.ctid, s.last_seq
        from starcite.sessions s
        where (s.id, s.tenant_id) in (select i.session_id, i.tenant_id from unnest(_items) i where (i.error).code is null)
        order by s.id
        for no key update) l;

  -- Read after the locks are held, in a statement of its own, so it sees every event committed before.
  for _s in
    select i.idx, i.session_id, i.producer_seq, i.expected_seq, k.k::integer as k,
           i.idempotency_key is not null as keyed, i.producer_id is not null as produced,
           -- The previous item of this call with the same idempotency key / producer / producer_seq.
           lag(i.idx) over (partition by k.k, i.idempotency_key order by i.idx) as key_prev,
           lag(i.idx) over (partition by k.k, i.producer_id order by i.idx) as producer_prev,
           lag(i.idx) over (partition by k.k, i.producer_id, i.producer_seq order by i.idx) as seq_prev,
           keyed.seq as keyed_seq, keyed.same as keyed_same,
           produced.last as producer_db_last,
           repeated.seq as repeated_seq, repeated.same as repeated_same
    from unnest(_items) i
    left join unnest(_sessions, _tenants) with ordinality k(id, tenant_id, k)
      on k.id = i.session_id and k.tenant_id = i.tenant_id
    -- The event already holding this idempotency key.
    left join lateral (select e.seq, starcite.same_event_content(e, starcite.item_event(i)) as same
                       from starcite.events e
                       where e.session_id = i.session_id and e.idempotency_key = i.idempotency_key
                         and k.k is not null) keyed on true
    -- The producer's last producer_seq in the log, and the event already holding this producer_seq.
    left join lateral (select max(e.producer_seq) as last
                       from starcite.events e
                       where e.session_id = i.session_id and e.producer_id = i.producer_id
                         and k.k is not null) produced on true
    left join lateral (select e.seq, starcite.same_event_content(e, starcite.item_event(i)) as same
                       from starcite.events e
                       where e.session_id = i.session_id and e.producer_id = i.producer_id
                         and e.producer_seq = i.producer_seq and i.producer_seq <= produced.last) repeated on true
    where (i.error).code is null
    order by i.idx
  loop
    _err := null;
    _dup := null;
    _k := _s.k;
    if _k is null then
      _err := row('session_not_found', format('session %s does not exist', _s.session_id),
                  jsonb_build_object('session_id', _s.session_id));
    else
      -- Dedup by idempotency key: the event that already holds the key in this session wins.
      if _s.keyed then
        _owner := case when _s.key_prev is null then null
                       when _new[_s.key_prev] then _s.key_prev
                       else _key_owner[_s.key_prev] end;
        _key_owner[_s.idx] := _owner;
        _found := coalesce(_s.keyed_seq, _seqs[_owner]);
        if _found is not null then
          _same := coalesce(_s.keyed_same, starcite.same_event_content(starcite.item_event(_items[_s.idx]),
                                                                       starcite.item_event(_items[_owner])));
          if _same then
            _dup := _found;
          else
            _err := row('idempotency_conflict',
                        format('idempotency_key %s was already used for seq %s with different content',
                               (_items[_s.idx]).idempotency_key, _found),
                        jsonb_build_object('idempotency_key', (_items[_s.idx]).idempotency_key, 'seq', _found));
          end if;
        end if;
      end if;

      -- Dedup by producer: producer_seq continues the producer's run; an earlier one is a retry.
      if _s.produced then
        _plast := case when _s.producer_prev is null then _s.producer_db_last
                       else _producer_last[_s.producer_prev] end;
        _producer_last[_s.idx] := _plast;
        _owner := case when _s.seq_prev is null then null
                       when _new[_s.seq_prev] then _s.seq_prev
                       else _seq_owner[_s.seq_prev] end;
        _seq_owner[_s.idx] := _owner;
        if _err.code is null and _dup is null and _s.producer_seq <= _plast then
          _found := coalesce(_s.repeated_seq, _seqs[_owner]);
          if _found is null then
            -- Below the producer's first seq: it was never appended, so it cannot be a retry.
            _err := starcite.producer_seq_error(_items[_s.idx], _plast);
          elsif coalesce(_s.repeated_same, starcite.same_event_content(starcite.item_event(_items[_s.idx]),
                                                                       starcite.item_event(_items[_owner]))) then
            _dup := _found;
          else
            _err := row('producer_replay_conflict',
                        format('producer %s already appended producer_seq %s (seq %s) with different content',
                               (_items[_s.idx]).producer_id, _s.producer_seq, _found),
                        jsonb_build_object('producer_id', (_items[_s.idx]).producer_id,
                                           'producer_seq', _s.producer_seq, 'seq', _found));
          end if;
        elsif _err.code is null and _dup is null and _s.producer_seq <> _plast + 1 then
          _err := starcite.producer_seq_error(_items[_s.idx], _plast);
        end if;
      end if;

      -- Optimistic concurrency, checked after dedup so that a retried conditional append still dedupes.
      if _err.code is null and _dup is null and _s.expected_seq <> _lasts[_k] then
        _err := row('expected_seq_conflict',
                    format('session %s is at seq %s, expected %s', _s.session_id, _lasts[_k], _s.expected_seq),
                    jsonb_build_object('session_id', _s.session_id, 'last_seq', _lasts[_k],
                                       'expected_seq', _s.expected_seq));
      end if;

      if _err.code is null then
        if _dup is not null then
          _seqs[_s.idx] := _dup;
          _deduped[_s.idx] := true;
        else
          _lasts[_k] := _lasts[_k] + 1;
          _seqs[_s.idx] := _lasts[_k];
          _new[_s.idx] := true;
          _appended := true;
          if _s.produced then
            _producer_last[_s.idx] := _s.producer_seq;
          end if;
        end if;
        _last_seqs[_s.idx] := _lasts[_k];
      end if;
    end if;
    _errors[_s.idx] := _err;
  end loop;

  if atomic then
    select g.idx, (e.err).code, (e.err).message, (e.err).detail into _s
    from generate_series(1, _n) g(idx)
    cross join lateral (select coalesce(_errors[g.idx], (_items[g.idx]).error) as err) e
    where (e.err).code is not null
    order by g.idx
    limit 1;
    if _s.code is not null then
      perform starcite.raise_error(_s.code, _s.message, coalesce(_s.detail, '{}') || jsonb_build_object('index', _s.idx - 1));
    end if;
  end if;

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

  return query
    select g.idx, _seqs[g.idx], _last_seqs[g.idx], _deduped[g.idx], (e.err).code,
           (e.err).code || ': ' || (e.err).message, case when (e.err).code is not null then coalesce((e.err).detail, '{}') end
    from generate_series(1, _n) g(idx)
    cross join lateral (select coalesce(_errors[g.idx], (_items[g.idx]).error) as err) e;
end
$$;
