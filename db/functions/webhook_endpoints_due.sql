-- Enabled endpoints with something to send now: session changes past their lifecycle cursor, or events past a
-- session cursor, and no delivery of that stream waiting out a backoff. Read-only; the webhook worker calls it
-- per round for the endpoints it holds the lock of.
create function starcite.webhook_endpoints_due(endpoint_ids text[])
returns table (endpoint_id text, changes_due boolean)
language sql stable as $$
  select w.id,
         w.lifecycle and starcite.last_change_seq(w.tenant_id) > w.changes_delivered
           and not exists (select 1 from starcite.webhook_deliveries d
                           where d.endpoint_id = w.id and d.session_id is null and d.status = 'pending'
                             and d.next_attempt_at > clock_timestamp())
  from starcite.webhook_endpoints w
  where w.id = any (webhook_endpoints_due.endpoint_ids) and w.enabled
$$;
