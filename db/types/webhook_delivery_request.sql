-- What the webhook sender POSTs: where, signed with which secret, and the JSON body (see webhook_next_delivery).
create type starcite.webhook_delivery_request as (
  delivery_id text,
  url         text,
  secret      text,
  attempt     integer,   -- 1 on the first try
  body        jsonb
);
