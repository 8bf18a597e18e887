-- Several append_items calls in one transaction, so that they share one commit: its flush, and the cluster-wide
-- lock every NOTIFYing commit holds through that flush. What the server's group commit sends when atomic batches
-- (appendBatch) arrive together. groups is a JSON array of {"items": [...], "atomic": true|false}; the result
-- has append_items' rows for each group, tagged with the group's 1-based position. An atomic group whose items
-- fail writes nothing and gets ONE row (idx null) with the error append_items raised; the other groups are not
-- affected: each atomic group runs in a subtransaction. Any other error fails the whole call.
--
-- Every session the groups address is locked first, in id order, as a single append_items call does, so that
-- calls cannot deadlock however their groups are ordered (append_items then takes locks this transaction holds).
create function starcite.append_groups(groups jsonb)
returns table (grp integer, idx integer, seq bigint, last_seq bigint, deduped boolean, error_code text,
               error_message text, error_detail jsonb)
language plpgsql volatile as $$
declare
  _group   jsonb;
  _k       integer := 0;
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
