-- A wake a server process must deliver: a webhook request to send, or (pull-wake) the wake a worker claimed.
-- streams: the pending streams it reports, [{path, link_type, acked_epoch, acked_seq, tail_epoch, tail_seq,
-- has_pending}]; attempt: 1 for a first delivery, more for a webhook retry.
create type starcite.ds_wake as (
  tenant_id       text,
  subscription_id text,
  type            text,
  webhook_url     text,
  base_url        text,
  generation      bigint,
  wake_id         text,
  lease_ttl_ms    integer,
  holder          text,
  attempt         integer,
  streams         jsonb
);
