-- Events with seq > after_seq in seq order, as ONE JSON array text: a page serialised once, here, instead of
-- row by row in every reader. Each event is an object with the given columns under the given keys, in that
-- order (fields: seq, session_id, type, payload, actor, source, metadata, refs, idempotency_key, producer_id,
-- producer_seq, inserted_at; inserted_at as ISO-8601 UTC with six fractional digits, the JSON columns as
-- stored). The page ends after max_events events, or after the event at which the stored size of the payloads
-- read so far reaches max_bytes (so it holds at least one event). n is the number of events, last_seq the last
-- one's seq (null when the page is empty). A binary message's bytes count with its payload.
create function starcite.read_json(session_id text, after_seq bigint, max_events integer, max_bytes integer,
                                   fields text[], keys text[], tenant_id text default null)
returns table (events text, n integer, last_seq bigint)
language plpgsql stable as $$
declare
  _object text;
begin
  perform starcite.check_read(read_json.session_id, read_json.after_seq, read_json.max_events, 'events_per_json_read',
                              read_json.tenant_id);
  if read_json.max_bytes is null or read_json.max_bytes < 1
     or read_json.max_bytes > starcite.limit_value('json_read_bytes') then
    perform starcite.raise_error('invalid_argument',
      format('max_bytes must be between 1 and %s', starcite.limit_value('json_read_bytes')),
      jsonb_build_object('field', 'max_bytes', 'min', 1, 'max', starcite.limit_value('json_read_bytes')));
  end if;
  if fields is null or keys is null or cardinality(fields) = 0 or cardinality(fields) <> cardinality(keys)
     or array_position(keys, null) is not null then
    perform starcite.raise_error('invalid_argument', 'fields and keys must be arrays of the same non-zero length',
      '{"field":"fields"}');
  end if;
  if exists (select 1 from unnest(read_json.fields) f
             where f is null or f not in ('seq', 'session_id', 'type', 'payload', 'actor', 'source', 'metadata', 'refs',
                                          'idempotency_key', 'producer_id', 'producer_seq', 'inserted_at')) then
    perform starcite.raise_error('invalid_argument', 'unknown field in fields', '{"field":"fields"}');
  end if;

  -- The object's expression, built from a closed list: a key only ever appears as a quoted literal.
  select '''{'' || ' || string_agg(
           quote_literal(case when f.ord > 1 then ',' else '' end || to_json(f.key)::text || ':') || ' || ' ||
           case f.field
             when 'seq' then 'e.seq::text'
             when 'session_id' then 'to_json(e.session_id)::text'
             when 'type' then 'to_json(e.type)::text'
             when 'payload' then 'starcite.payload_text(e.payload, e.body)'
             when 'actor' then 'coalesce(to_json(e.actor)::text, ''null'')'
             when 'source' then 'coalesce(to_json(e.source)::text, ''null'')'
             when 'metadata' then 'coalesce(e.metadata::text, ''null'')'
             when 'refs' then 'coalesce(e.refs::text, ''null'')'
             when 'idempotency_key' then 'coalesce(to_json(e.idempotency_key)::text, ''null'')'
             when 'producer_id' then 'coalesce(to_json(e.producer_id)::text, ''null'')'
             when 'producer_seq' then 'coalesce(e.producer_seq::text, ''null'')'
             when 'inserted_at' then
               '''"'' || to_char(e.inserted_at at time zone ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS.US"Z"'') || ''"'''
           end, ' || ' order by f.ord) || ' || ''}'''
    into _object
    from unnest(read_json.fields, read_json.keys) with ordinality as f(field, key, ord);

  return query execute format($q$
    select coalesce('[' || string_agg(%s, ',' order by e.seq) || ']', '[]'), count(*)::integer, max(e.seq)
    from (select p.* from (select e.*, sum(pg_column_size(e.payload) + coalesce(octet_length(e.body), 0)) over (order by e.seq) as upto
                           from starcite.events e
                           where e.session_id = $1 and e.seq > $2
                           order by e.seq
                           limit $3) p
          where p.upto - pg_column_size(p.payload) - coalesce(octet_length(p.body), 0) < $4) e$q$, _object)
    using read_json.session_id, read_json.after_seq, read_json.max_events, read_json.max_bytes;
end
$$;
