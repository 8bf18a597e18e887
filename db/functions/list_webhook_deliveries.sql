-- An endpoint's deliveries, newest first: all, or only 'pending' (not yet acknowledged) or 'succeeded' ones.
create function starcite.list_webhook_deliveries(endpoint_id text, status text default null,
                                                 max_deliveries integer default 100, tenant_id text default null)
returns setof starcite.webhook_deliveries
language plpgsql stable as $$
begin
  perform starcite.check_page_size(list_webhook_deliveries.max_deliveries, 'deliveries_per_list');
  if list_webhook_deliveries.status is not null and list_webhook_deliveries.status not in ('pending', 'succeeded') then
    perform starcite.raise_error('invalid_argument', 'status must be pending or succeeded', '{"field":"status"}');
  end if;
  if not exists (select 1 from starcite.webhook_endpoints w
                 where w.id = list_webhook_deliveries.endpoint_id
                   and w.tenant_id = starcite.resolve_tenant(list_webhook_deliveries.tenant_id)) then
    perform starcite.raise_error('webhook_not_found', format('webhook endpoint %s does not exist', list_webhook_deliveries.endpoint_id),
      jsonb_build_object('endpoint_id', list_webhook_deliveries.endpoint_id));
  end if;
  return query
    select d.* from starcite.webhook_deliveries d
    where d.endpoint_id = list_webhook_deliveries.endpoint_id
      and (list_webhook_deliveries.status is null or d.status = list_webhook_deliveries.status)
    order by d.created_at desc, d.id
    limit list_webhook_deliveries.max_deliveries;
end
$$;
