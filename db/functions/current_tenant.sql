-- The caller's tenant: the transaction/session setting starcite.tenant_id, or 'default' when it is unset.
create function starcite.current_tenant() returns text
language sql stable parallel safe as $$
  select coalesce(nullif(current_setting('starcite.tenant_id', true), ''), 'default')
$$;
