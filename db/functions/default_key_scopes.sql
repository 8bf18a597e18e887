-- The scopes of a new API key when none are given.
create function starcite.default_key_scopes() returns text[]
language sql immutable parallel safe as $$
  select array(select s.name from starcite.scopes() s where s.api_key_default order by s.name)
$$;
