-- What create_api_key returns: the key's record and, this once, its secret.
create type starcite.created_api_key as (
  id text, secret text, tenant_id text, name text, key_prefix text, scopes text[],
  created_at timestamptz, expires_at timestamptz
);
