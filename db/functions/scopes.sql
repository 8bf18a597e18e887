-- Every scope a credential can hold, defined here once (src/auth/principal.ts and the README are tested
-- against it). api_key_default: part of a new API key's scopes when none are given; session_token: whether a
-- session token may carry it.
create function starcite.scopes()
returns table (name text, api_key_default boolean, session_token boolean, description text)
language sql immutable parallel safe as $$
  values
    ('session:create', true,  false, 'create, update and list sessions'),
    ('session:read',   true,  true,  'read, list and tail sessions'),
    ('session:append', true,  true,  'append'),
    ('keys:admin',     false, false, 'manage your tenant''s API keys'),
    ('tenant:admin', false, false, 'manage your tenant''s retention policies and webhook endpoints, and read webhook deliveries'),
    ('admin',          false, false, 'manage any tenant''s keys (the development key has it)')
$$;

comment on function starcite.scopes() is 'Every scope a credential can hold: a new key''s default, whether a session token may carry it, what it allows.';
