-- Returns the secret exactly once; only its SHA-256 is stored. Creates the tenant if it is new.
-- creator_scopes: the scopes of the credential asking (null: a trusted caller such as the server's own
-- bootstrap or a DBA); unless they include admin, the new key may only hold scopes the creator holds.
create function starcite.create_api_key(tenant_id text, name text,
                                        scopes text[] default starcite.default_key_scopes(),
                                        expires_at timestamptz default null, creator_scopes text[] default null)
returns setof starcite.created_api_key
language plpgsql volatile as $$
declare
  _secret text := 'sk_' || starcite.random_token(2);
  _id text := 'key_' || left(starcite.random_token(1), 16);
  _missing text[];
begin
  if create_api_key.name is null
     or char_length(create_api_key.name) not between 1 and starcite.limit_value('api_key_name_chars') then
    perform starcite.raise_error('invalid_argument',
      format('name must be 1-%s characters', starcite.limit_value('api_key_name_chars')), '{"field":"name"}');
  end if;
  if not starcite.valid_scopes(create_api_key.scopes) then
    perform starcite.raise_error('invalid_argument',
      format('scopes must be a non-empty subset of %s; got %s',
             (select string_agg(s.name, ', ' order by s.n) from starcite.scopes() with ordinality s(name, api_key_default, session_token, description, n)),
             coalesce(array_to_string(create_api_key.scopes, ', '), 'none')),
      '{"field":"scopes"}');
  end if;
  if create_api_key.creator_scopes is not null and not 'admin' = any (create_api_key.creator_scopes) then
    _missing := array(select distinct s from unnest(create_api_key.scopes) s
                      where s <> all (create_api_key.creator_scopes) order by s);
    if cardinality(_missing) > 0 then
      perform starcite.raise_error('forbidden_scope',
        format('cannot grant scopes you do not hold: %s', array_to_string(_missing, ', ')),
        jsonb_build_object('required', _missing));
    end if;
  end if;
  if create_api_key.expires_at is not null and create_api_key.expires_at <= now() then
    perform starcite.raise_error('invalid_argument', 'expires_at must be in the future', '{"field":"expires_at"}');
  end if;
  perform starcite.create_tenant(create_api_key.tenant_id);

  return query
    insert into starcite.api_keys (id, tenant_id, name, key_hash, key_prefix, scopes, expires_at)
    values (_id, create_api_key.tenant_id, create_api_key.name, sha256(convert_to(_secret, 'UTF8')),
            left(_secret, 11), (select array_agg(distinct s order by s) from unnest(create_api_key.scopes) s),
            create_api_key.expires_at)
    returning api_keys.id, _secret, api_keys.tenant_id, api_keys.name, api_keys.key_prefix, api_keys.scopes,
              api_keys.created_at, api_keys.expires_at;
end
$$;
