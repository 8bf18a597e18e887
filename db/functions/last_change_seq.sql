-- The seq of the tenant's newest session change (0 when none): a lifecycle cursor that means "from now on".
create function starcite.last_change_seq(tenant_id text default null) returns bigint
language sql stable as $$
  select coalesce((select c.last_seq from starcite.change_counters c
                   where c.tenant_id = starcite.resolve_tenant(last_change_seq.tenant_id)), 0)
$$;
