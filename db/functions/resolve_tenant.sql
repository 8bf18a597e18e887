-- The tenant a call acts for: its explicit tenant_id argument, else the caller's (starcite.current_tenant).
create function starcite.resolve_tenant(tenant_id text) returns text
language sql stable parallel safe as $$
  select coalesce(resolve_tenant.tenant_id, starcite.current_tenant())
$$;
