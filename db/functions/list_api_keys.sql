-- Key records (never secrets) of one tenant, or of all tenants when tenant_id is null.
create function starcite.list_api_keys(tenant_id text default null)
returns setof starcite.api_key_info
language sql stable as $$
  select k.id, k.tenant_id, k.name, k.key_prefix, k.scopes, k.created_at, k.expires_at, k.revoked_at
  from starcite.api_keys k
  where list_api_keys.tenant_id is null or k.tenant_id = list_api_keys.tenant_id
  order by k.tenant_id, k.created_at, k.id
$$;
