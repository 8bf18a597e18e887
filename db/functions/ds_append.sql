-- POST: appends to a Durable Stream, in this order of checks (PROTOCOL.md 5.2): the stream is live; a closed
-- stream accepts only a repeat of the idempotent producer request that closed it (outcome duplicate) or another
-- close-only request (outcome closed), and is session_closed otherwise; the content type matches (a close-only
-- request has none); the idempotent producer (producer_id/_epoch/_seq) is its current epoch's next batch -- a
-- stale epoch is producer_epoch_stale, a new epoch must start at seq 0, a seq at or below the last is a
-- duplicate (nothing is written), one past the next is producer_seq_conflict; then stream_seq must be greater,
-- byte-wise, than the last one. Appended messages, the producer's new state, the Stream-Seq and the sliding
-- TTL are written in one transaction, under the stream row's lock (which serialises each stream's producers).
create function starcite.ds_append(path text, content_type text default null, messages jsonb default null,
                                   body bytea default null, stream_seq text default null, producer_id text default null,
                                   producer_epoch bigint default null, producer_seq bigint default null,
                                   close boolean default false, actor text default null, tenant_id text default null)
returns table (outcome text, state starcite.ds_stream_state, epoch bigint, last_producer_seq bigint)
language plpgsql volatile as $$
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
$$;
