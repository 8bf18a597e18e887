-- The ds_stream_state of a stream row: its settings and, from its session, its tail (the closing marker of a
-- closed stream is not counted). PL/pgSQL, so that its lookup is planned once per connection: as a SQL function
-- with a FROM it could not be inlined, and every call (each Durable Streams append and read) planned it anew.
create function starcite.ds_state(s starcite.ds_streams) returns starcite.ds_stream_state
language plpgsql stable as $$
declare
  _state starcite.ds_stream_state;
begin
  select s.session_id, s.offset_epoch, s.content_type, s.ttl_seconds, s.expires_at,
         x.last_seq - (x.closed_at is not null)::integer, x.closed_at is not null
    into _state
  from starcite.sessions x where x.id = s.session_id;
  return _state;
end
$$;
