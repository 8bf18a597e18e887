-- What an append_items item's dedup depends on, read under the session locks: the previous items of the same
-- call with the same session and idempotency key, producer, or producer and producer_seq; and in the log, the
-- event holding its idempotency key, its producer's last producer_seq, the event holding its producer_seq
-- (same: whether that event has the item's content).
create type starcite.append_facts as (
  key_prev      integer,
  producer_prev integer,
  seq_prev      integer,
  keyed_seq     bigint,
  keyed_same    boolean,
  producer_last bigint,
  repeated_seq  bigint,
  repeated_same boolean
);
