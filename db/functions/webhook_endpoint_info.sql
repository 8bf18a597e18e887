-- An endpoint row without its secret.
create function starcite.webhook_endpoint_info(w starcite.webhook_endpoints)
returns starcite.webhook_endpoint_info
language sql immutable as $$
  select row(w.id, w.tenant_id, w.url, w.session_ids, w.types, w.events, w.lifecycle, w.enabled,
             w.changes_delivered, w.created_at, w.updated_at)::starcite.webhook_endpoint_info
$$;
