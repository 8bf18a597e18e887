-- One row of append_items per input item.
create type starcite.append_result as (
  idx           integer,  -- 1-based position of the item in the input
  seq           bigint,   -- the event's seq (the original one when deduped); null on error
  last_seq      bigint,   -- the session's last seq after this item; null on error
  deduped       boolean,  -- true when the item matched an event already in the log
  error_code    text,     -- null on success, else a code from starcite.error_codes()
  error_message text,
  error_detail  jsonb
);
