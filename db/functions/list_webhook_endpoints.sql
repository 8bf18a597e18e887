-- The tenant's webhook endpoints, oldest first (never their secrets).
create function starcite.list_webhook_endpoints(tenant_id text default null)
returns setof starcite.webhook_endpoint_info
language sql stable as $$
  select (starcite.webhook_endpoint_info(w)).* from starcite.webhook_endpoints w
  where w.tenant_id = starcite.resolve_tenant(list_webhook_endpoints.tenant_id)
  order by w.created_at, w.id
$$;
