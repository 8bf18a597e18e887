-- The one way a secret becomes a principal: unknown, revoked and expired keys are all `unauthorized`.
create function starcite.authenticate_api_key(secret text)
returns table (key_id text, tenant_id text, scopes text[], expires_at timestamptz)
language plpgsql stable as $$
declare
  _key starcite.api_keys;
begin
  select k.* into _key from starcite.api_keys k
  where k.key_hash = sha256(convert_to(authenticate_api_key.secret, 'UTF8'));
  if _key.id is null then
    perform starcite.raise_error('unauthorized', 'unknown API key');
  elsif _key.revoked_at is not null then
    perform starcite.raise_error('unauthorized', format('API key %s was revoked', _key.id),
      jsonb_build_object('key_id', _key.id));
  elsif _key.expires_at is not null and _key.expires_at <= now() then
    perform starcite.raise_error('unauthorized', format('API key %s has expired', _key.id),
      jsonb_build_object('key_id', _key.id));
  end if;
  return query select _key.id, _key.tenant_id, _key.scopes, _key.expires_at;
end
$$;
