-- The append engine behind every append. items is a JSON array of objects with the keys
--   session_id, type (default content), payload, actor, source, metadata, refs, idempotency_key,
--   producer_id, producer_seq, expected_seq, tenant_id (default starcite.current_tenant())
-- and the result has one row per item, in input order.
--
-- The items are decoded and checked as a set (decode_items). Every session they address is locked, in id
-- order so that concurrent multi-session calls cannot deadlock, until the caller commits. A call in which nothing
-- can dedup or conflict (the common case: valid items addressing open sessions, no idempotency keys or
-- expected_seq, producers continuing their runs) is then appended by one statement. Otherwise, when items carry
-- idempotency keys or producers, what their dedup depends on is read in one statement, and one loop walks the
-- items in input order and decides each one's seq, dedup or conflict. Either way the new events go in with ONE
-- insert (so the notify trigger fires once per session per call) and each session's counter row is updated once.
-- With atomic = true the first failing item raises its error and nothing is written; otherwise a failing item
-- is reported in its row and the others still append. Nothing raises per item, so no
-- subtransaction is opened.
--
-- Generic plans: with custom ones, Postgres would plan these statements anew on every call (it sizes each
-- plan to the arrays it is given), which costs more than running them. No sequential scans: a generic plan
-- guesses 10 elements for every array, and with that guess the counter update by ctid came out as a hash join
-- over a sequential scan of every session row while the table was small (~0.1 ms per call at 1,000 sessions,
-- growing with the table until the next plan); every statement here reaches rows through an index or a ctid.
create function starcite.append_items(items jsonb, atomic boolean default false)
returns setof starcite.append_result
language plpgsql volatile
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
as $$
declare
  _n             integer;
  _items         starcite.append_item[];   -- decoded and checked, by idx
  _rows          tid[];                    -- the locked sessions' rows (the lock keeps them in place),
  _lasts         bigint[];                 -- and their running last_seq, in session id order
  _closed        boolean[];                -- and whether they are closed (a closed Durable Stream)
  _at            integer[];                -- by idx: the position of the item's session among them
  _keyed         boolean;                  -- whether any item has an idempotency key or a producer
  _pairs         bigint;                   -- distinct (session_id, tenant_id) among the items
  _odd           boolean;                  -- whether any item has a problem, an idempotency key or an expected_seq
  _producers     boolean;                  -- whether any item has a producer
  _ids           text[];                   -- the fast path's locked sessions, in id order
  _fast          boolean;                  -- whether the fast path applies
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

  select array_agg(i order by i.idx),
         count(distinct (i.session_id, i.tenant_id)),
         coalesce(bool_or(i.problem is not null or i.idempotency_key is not null or i.expected_seq is not null), false),
         coalesce(bool_or(i.producer_id is not null), false),
         coalesce(bool_or(i.idempotency_key is not null or i.producer_id is not null), false)
    into _items, _pairs, _odd, _producers, _keyed
    from starcite.decode_items(items, starcite.current_tenant()) i;

  -- The common case, decided as a set: every item is valid and addresses an open session it may append to, none
  -- carries an idempotency key or an expected_seq, and each producer's items continue its run (the next
  -- producer_seqs after the last one in the log, in input order; a producer new to the session may start
  -- anywhere). Then nothing can dedup or conflict, and the seqs follow from counting: after the lock, one statement
  -- inserts the items, moves the counters and returns the seqs. Anything else takes the loop below, which decides
  -- item by item. Whatever reads the log does so in a statement that starts after the one that locked, so that it
  -- sees every event committed before the locks. Each statement here costs tens of µs to start, whatever the
  -- number of items (bench/README.md, "Where an append's Postgres time goes"): this path has as few as it can.
  if not _odd then
    -- A locked row matches one (session, tenant) pair, so as many rows as pairs means every item found its session.
    select array_agg(s.id), array_agg(s.last_seq), count(*) = _pairs and bool_and(s.closed_at is null)
      into _ids, _lasts, _fast
      from (select s.id, s.last_seq, s.closed_at
            from starcite.sessions s
            where (s.id, s.tenant_id) in (select i.session_id, i.tenant_id from unnest(_items) i)
            order by s.id
            for no key update) s;
    if _fast and _producers then
      _fast := not exists (
        select 1
        from (select p.session_id, p.producer_id, min(p.run) as run, max(p.run) as run_max
              from (select i.session_id, i.producer_id,
                           i.producer_seq - row_number() over (partition by i.session_id, i.producer_id
                                                               order by i.idx) as run
                    from unnest(_items) i
                    where i.producer_id is not null) p
              group by p.session_id, p.producer_id) g
        left join lateral (select max(e.producer_seq) as last
                           from starcite.events e
                           where e.session_id = g.session_id and e.producer_id = g.producer_id) produced on true
        where g.run <> g.run_max or g.run <> coalesce(produced.last, g.run));
    end if;
    if _fast then
      return query
        with placed as (
          select i.idx, i.session_id, i.type, i.payload, i.actor, i.source, i.metadata, i.refs, i.producer_id,
                 i.producer_seq, l.last_seq + row_number() over (partition by l.id order by i.idx) as seq
          from unnest(_items) i
          join unnest(_ids, _lasts) as l(id, last_seq) on l.id = i.session_id),
        inserted as (
          insert into starcite.events (session_id, seq, type, payload, actor, source, metadata, refs, producer_id,
                                       producer_seq)
          select p.session_id, p.seq, p.type, p.payload, p.actor, p.source, p.metadata, p.refs, p.producer_id,
                 p.producer_seq
          from placed p),
        counted as (
          update starcite.sessions s set last_seq = c.last_seq, updated_at = clock_timestamp()
          from (select p.session_id, max(p.seq) as last_seq from placed p group by p.session_id) c
          where s.id = c.session_id)
        select p.idx, p.seq, p.seq, false, null::text, null::text, null::jsonb
        from placed p
        order by p.idx;
      return;
    end if;
  end if;

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
               order by i.idx)
    into _rows, _lasts, _closed, _at;

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
$$;
