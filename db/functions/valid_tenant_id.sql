create function starcite.valid_tenant_id(id text) returns boolean
language sql immutable parallel safe as $$
  select valid_tenant_id.id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$'
     and char_length(valid_tenant_id.id) <= starcite.limit_value('tenant_id_chars')
$$;
