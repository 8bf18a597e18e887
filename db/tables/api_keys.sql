-- API keys, stored only as SHA-256 hashes of high-entropy secrets.
create table starcite.api_keys (
  id         text primary key,
  tenant_id  text not null references starcite.tenants (id),
  name       text not null check (char_length(name) between 1 and starcite.limit_value('api_key_name_chars')),
  key_hash   bytea not null unique,
  -- The secret's first characters, so a key can be recognised in listings without storing it.
  key_prefix text not null,
  scopes     text[] not null check (starcite.valid_scopes(scopes)),
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  revoked_at timestamptz
);

create index api_keys_tenant_idx on starcite.api_keys (tenant_id, created_at);

alter table starcite.api_keys enable row level security;

create policy api_keys_tenant_isolation on starcite.api_keys
  using (tenant_id = starcite.current_tenant())
  with check (tenant_id = starcite.current_tenant());

comment on table starcite.api_keys is 'API keys: tenant, name, scopes, expiry; the secret itself is never stored.';
