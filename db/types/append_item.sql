-- One append_items input, decoded from JSON and checked: the event's fields as SQL values, the session and
-- tenant it is addressed to, and why it cannot be appended (a problem for event_error; null when it passed).
create type starcite.append_item as (
  idx             integer,  -- 1-based position in the input
  session_id      text,
  tenant_id       text,
  type            text,
  payload         jsonb,
  actor           text,
  source          text,
  metadata        jsonb,
  refs            jsonb,
  idempotency_key text,
  producer_id     text,
  producer_seq    bigint,
  expected_seq    bigint,
  problem         text
);
