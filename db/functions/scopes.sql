-- Every scope a credential can hold, defined here once (src/auth/principal.ts and the README are tested
-- against it). session_token: whether a session token may carry it.
create function starcite.scopes()
returns table (name text, session_token boolean, description text)
language sql immutable parallel safe as $$
  values
    ('session:create', false, 'create, update and list sessions'),
    ('session:read',   true,  'read, list and tail sessions'),
    ('session:append', true,  'append'),
    ('keys:admin',     false, 'manage your tenant''s API keys'),
    ('admin',          false, 'manage any tenant''s keys (the development key has it)')
$$;

comment on function starcite.scopes() is 'Every scope a credential can hold, whether a session token may carry it, and what it allows.';
