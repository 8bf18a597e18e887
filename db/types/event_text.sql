-- An event with its JSON columns as JSON text (jsonb's own output) instead of jsonb: what starcite.read_text
-- returns. A Durable Streams binary message's payload carries its bytes in base64 (starcite.payload_text).
create type starcite.event_text as (
  seq             bigint,
  session_id      text,
  type            text,
  payload         text,
  actor           text,
  source          text,
  metadata        text,
  refs            text,
  idempotency_key text,
  producer_id     text,
  producer_seq    bigint,
  inserted_at     timestamptz
);
