-- Appends a Durable Stream's new messages to its session in one statement (so one notification): each JSON message
-- an event -- an object as the payload of a ds.message event, any other value as {"value": ...} of a ds.value
-- event -- or the body bytes as one ds.bytes event (payload {"content_type": ...}); with close, a ds.closed marker
-- event after them, and the session closed. Bumps the session's counter row, which orders them after every
-- earlier append. Returns the seq of the last message (the tail).
create function starcite.ds_insert(session_id text, content_type text, messages jsonb, body bytea, close boolean,
                                   actor text)
returns bigint
language plpgsql volatile as $$
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
$$;
