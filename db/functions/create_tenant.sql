-- Creates a tenant, or renames it when it exists (idempotent).
create function starcite.create_tenant(id text, name text default null) returns starcite.tenants
language plpgsql volatile as $$
declare
  _row starcite.tenants;
begin
  if create_tenant.id is null or not starcite.valid_tenant_id(create_tenant.id) then
    perform starcite.raise_error('invalid_argument',
      format('tenant id must be 1-%s characters of [A-Za-z0-9_.-], starting with a letter or digit',
             starcite.limit_value('tenant_id_chars')),
      '{"field":"tenant_id"}');
  end if;
  insert into starcite.tenants (id, name) values (create_tenant.id, create_tenant.name)
  on conflict on constraint tenants_pkey do update set name = coalesce(excluded.name, starcite.tenants.name)
  returning * into _row;
  return _row;
end
$$;
