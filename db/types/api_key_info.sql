-- An API key's record as the key functions return it (never the secret).
create type starcite.api_key_info as (
  id text, tenant_id text, name text, key_prefix text, scopes text[],
  created_at timestamptz, expires_at timestamptz, revoked_at timestamptz
);
