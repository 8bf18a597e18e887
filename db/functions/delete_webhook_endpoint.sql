-- Deletes an endpoint with its cursors and delivery records; returns what it was.
create function starcite.delete_webhook_endpoint(id text, tenant_id text default null)
returns starcite.webhook_endpoint_info
language plpgsql volatile as $$
declare
  _row starcite.webhook_endpoints;
begin
  delete from starcite.webhook_endpoints w
  where w.id = delete_webhook_endpoint.id and w.tenant_id = starcite.resolve_tenant(delete_webhook_endpoint.tenant_id)
  returning w.* into _row;
  if _row.id is null then
    perform starcite.raise_error('webhook_not_found', format('webhook endpoint %s does not exist', delete_webhook_endpoint.id),
      jsonb_build_object('endpoint_id', delete_webhook_endpoint.id));
  end if;
  return starcite.webhook_endpoint_info(_row);
end
$$;
