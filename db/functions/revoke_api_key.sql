-- With tenant_id, only that tenant's key can be revoked (another tenant's key is key_not_found).
create function starcite.revoke_api_key(id text, tenant_id text default null)
returns setof starcite.api_key_info
language plpgsql volatile as $$
begin
  return query
    update starcite.api_keys k set revoked_at = coalesce(k.revoked_at, now())
    where k.id = revoke_api_key.id and (revoke_api_key.tenant_id is null or k.tenant_id = revoke_api_key.tenant_id)
    returning k.id, k.tenant_id, k.name, k.key_prefix, k.scopes, k.created_at, k.expires_at, k.revoked_at;
  if not found then
    perform starcite.raise_error('key_not_found', format('API key %s does not exist', revoke_api_key.id),
      jsonb_build_object('key_id', revoke_api_key.id));
  end if;
end
$$;
