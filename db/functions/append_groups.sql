-- Several append_items calls in one transaction, so that they share one commit: its flush, and the cluster-wide
-- lock every NOTIFYing commit holds through that flush. What the server's group commit sends when atomic batches
-- (appendBatch) arrive together. groups is a JSON array of {"items": [...], "atomic": true|false}; the result
-- has append_items' rows for each group, tagged with the group's 1-based position. An atomic group whose items
-- fail writes nothing and gets ONE row (idx null) with the error append_items raised; the other groups are not
-- affected: each atomic group runs in a subtransaction. Any other error fails the whole call.
--
-- The usual case, where no atomic group fails, costs one append_items call: all the items in one call (in group
-- order, which is what the calls one after another would do), in a subtransaction that is rolled back, and the
-- groups taken one by one, only when an item of an atomic group failed (or there are too many items for one call).
-- Before the groups go one by one, every session they address is locked, in id order, as a single append_items
-- call does, so that calls cannot deadlock however their groups are ordered.
create function starcite.append_groups(groups jsonb)
returns table (grp integer, idx integer, seq bigint, last_seq bigint, deduped boolean, error_code text,
               error_message text, error_detail jsonb)
language plpgsql volatile as $$
declare
  _group   jsonb;
  _k       integer := 0;
  _all     jsonb;
  _starts  integer[];                      -- by group: how many items come before it
  _atomic  boolean[];                      -- by group
  _grp     integer[];                      -- by position in _all: the item's group
  _rows    starcite.append_result[];
  _state   text;
  _message text;
  _detail  text;
begin
  if groups is null or jsonb_typeof(groups) <> 'array'
     or exists (select 1 from jsonb_array_elements(groups) g
                where jsonb_typeof(g) <> 'object' or jsonb_typeof(g->'items') is distinct from 'array'
                   or jsonb_typeof(coalesce(g->'atomic', 'false')) <> 'boolean') then
    perform starcite.raise_error('invalid_argument', 'groups must be a JSON array of {"items": [...], "atomic": boolean}',
      '{"field":"groups"}');
  end if;

  -- Every group's items in one array by a JSON path (in C, the items' JSON copied once, not rebuilt one by one), and
  -- by group its offset and mode, by item its group, from the groups' lengths alone.
  _all := jsonb_path_query_array(groups, 'strict $[*].items[*]');
  select array_agg((x.total - x.n)::integer order by x.k), array_agg(x.atomic order by x.k),
         array(select x.k::integer
               from jsonb_array_elements(groups) with ordinality as x(g, k),
                    generate_series(1, jsonb_array_length(x.g->'items'))
               order by x.k)
    into _starts, _atomic, _grp
    from (select x.k, jsonb_array_length(x.g->'items') as n,
                 sum(jsonb_array_length(x.g->'items')) over (order by x.k) as total,
                 coalesce((x.g->>'atomic')::boolean, false) as atomic
          from jsonb_array_elements(groups) with ordinality as x(g, k)) x;

  if jsonb_array_length(_all) <= starcite.limit_value('events_per_call') then
    begin
      _rows := array(select r from starcite.append_items(_all, false) r);
      if exists (select 1 from unnest(_rows) r where r.error_code is not null and _atomic[_grp[r.idx]]) then
        raise exception 'an atomic group failed' using errcode = 'P0001';
      end if;
      return query
        select _grp[r.idx], r.idx - _starts[_grp[r.idx]], r.seq, r.last_seq, r.deduped, r.error_code, r.error_message,
               r.error_detail
        from unnest(_rows) r
        order by r.idx;
      return;
    exception when raise_exception then
      null; -- rolled back: the groups one by one below
    end;
  end if;

  -- Group by group: every session locked first, here in the transaction itself (the subtransactions below then
  -- update rows it holds). Not before the one-call path above: there append_items locks and updates in the same
  -- subtransaction, while a lock taken here and an update in a subtransaction make Postgres record both in a
  -- multixact, on every call.
  perform 1
  from starcite.sessions s
  where (s.id, s.tenant_id) in (select i->>'session_id', coalesce(i->>'tenant_id', starcite.current_tenant())
                                from jsonb_array_elements(groups) g, jsonb_array_elements(g->'items') i
                                where jsonb_typeof(i) = 'object')
  order by s.id
  for no key update;

  for _group in select g from jsonb_array_elements(groups) g loop
    _k := _k + 1;
    if (_group->>'atomic')::boolean then
      begin
        _rows := array(select r from starcite.append_items(_group->'items', true) r);
      exception when others then
        get stacked diagnostics _state = returned_sqlstate, _message = message_text, _detail = pg_exception_detail;
        if _state not like 'SC%' or _state = 'SC000' then
          raise;
        end if;
        return query
          select _k, null::integer, null::bigint, null::bigint, null::boolean,
                 (select c.code from starcite.error_codes() c where c.sqlstate = _state), _message,
                 coalesce(nullif(_detail, '')::jsonb, '{}');
        continue;
      end;
    else
      _rows := array(select r from starcite.append_items(_group->'items', false) r);
    end if;
    return query select _k, r.* from unnest(_rows) r;
  end loop;
end
$$;
