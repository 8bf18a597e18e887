-- The SQLSTATE a code is raised with; codes that have none (or are unknown) are internal errors.
create function starcite.error_sqlstate(code text) returns text
language sql immutable parallel safe as $$
  select coalesce((select c.sqlstate from starcite.error_codes() c where c.code = error_sqlstate.code), 'SC000')
$$;
