-- A non-empty list of known scopes.
create function starcite.valid_scopes(scopes text[]) returns boolean
language sql immutable parallel safe as $$
  select coalesce(cardinality(valid_scopes.scopes), 0) > 0
     and valid_scopes.scopes <@ array(select s.name from starcite.scopes() s)
$$;
