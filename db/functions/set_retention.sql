-- Sets the retention policy of a tenant (session_id null) or of one session, replacing any it had. At least one
-- of max_age and max_events; archive = true archives expired events before deleting them.
create function starcite.set_retention(max_age interval default null, max_events bigint default null,
                                       archive boolean default false, session_id text default null,
                                       tenant_id text default null)
returns starcite.retention_policy
language plpgsql volatile as $$
declare
  _tenant text := starcite.resolve_tenant(set_retention.tenant_id);
begin
  if set_retention.max_age is null and set_retention.max_events is null then
    perform starcite.raise_error('invalid_argument', 'a retention policy needs max_age and/or max_events',
      '{"field":"max_age"}');
  end if;
  if set_retention.max_age <= interval '0' then
    perform starcite.raise_error('invalid_argument', 'max_age must be positive', '{"field":"max_age"}');
  end if;
  if set_retention.max_events < 1 then
    perform starcite.raise_error('invalid_argument', 'max_events must be >= 1', '{"field":"max_events"}');
  end if;
  if set_retention.session_id is not null and not exists (
       select 1 from starcite.sessions s where s.id = set_retention.session_id and s.tenant_id = _tenant) then
    perform starcite.raise_error('session_not_found', format('session %s does not exist', set_retention.session_id),
      jsonb_build_object('session_id', set_retention.session_id));
  end if;
  if not exists (select 1 from starcite.tenants t where t.id = _tenant) then
    perform starcite.raise_error('invalid_argument', format('tenant %s does not exist', _tenant),
      '{"field":"tenant_id"}');
  end if;

  delete from starcite.retention_policies p
  where p.tenant_id = _tenant and p.session_id is not distinct from set_retention.session_id;
  insert into starcite.retention_policies (tenant_id, session_id, max_age, max_events, archive)
  values (_tenant, set_retention.session_id, set_retention.max_age, set_retention.max_events,
          coalesce(set_retention.archive, false));
  return starcite.get_retention(set_retention.session_id, _tenant);
end
$$;
