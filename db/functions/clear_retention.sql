-- Removes the policy of a tenant (session_id null) or of one session (which then follows its tenant's).
-- True when there was one.
create function starcite.clear_retention(session_id text default null, tenant_id text default null)
returns boolean
language plpgsql volatile as $$
begin
  delete from starcite.retention_policies p
  where p.tenant_id = starcite.resolve_tenant(clear_retention.tenant_id)
    and p.session_id is not distinct from clear_retention.session_id;
  return found;
end
$$;
