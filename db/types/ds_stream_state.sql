-- What every Durable Streams operation answers with about its stream: the session that holds it, its offset
-- space, content type, expiry settings, and its tail: the seq of its last message (a closed stream's closing
-- marker event is not a message) and whether it is closed.
create type starcite.ds_stream_state as (
  session_id   text,
  offset_epoch bigint,
  content_type text,
  ttl_seconds  bigint,
  expires_at   timestamptz,
  tail_seq     bigint,
  closed       boolean
);
