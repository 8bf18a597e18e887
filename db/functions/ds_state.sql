-- The ds_stream_state of a stream row: its settings and, from its session, its tail (the closing marker of a
-- closed stream is not counted).
create function starcite.ds_state(s starcite.ds_streams) returns starcite.ds_stream_state
language sql stable as $$
  select row(s.session_id, s.offset_epoch, s.content_type, s.ttl_seconds, s.expires_at,
             x.last_seq - (x.closed_at is not null)::integer, x.closed_at is not null)::starcite.ds_stream_state
  from starcite.sessions x where x.id = s.session_id
$$;
