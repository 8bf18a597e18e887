-- Changes an endpoint; null arguments leave a field unchanged. clear_sessions / clear_types drop a filter
-- (all sessions / all types again). Re-enabling an endpoint resumes from its cursors: nothing is skipped.
create function starcite.update_webhook_endpoint(id text, url text default null, session_ids text[] default null,
                                                 types text[] default null, events boolean default null,
                                                 lifecycle boolean default null, enabled boolean default null,
                                                 clear_sessions boolean default false, clear_types boolean default false,
                                                 tenant_id text default null)
returns starcite.webhook_endpoint_info
language plpgsql volatile as $$
declare
  _row starcite.webhook_endpoints;
begin
  select w.* into _row from starcite.webhook_endpoints w
  where w.id = update_webhook_endpoint.id and w.tenant_id = starcite.resolve_tenant(update_webhook_endpoint.tenant_id)
  for update;
  if _row.id is null then
    perform starcite.raise_error('webhook_not_found', format('webhook endpoint %s does not exist', update_webhook_endpoint.id),
      jsonb_build_object('endpoint_id', update_webhook_endpoint.id));
  end if;
  perform starcite.check_webhook_fields(update_webhook_endpoint.url, update_webhook_endpoint.session_ids,
    update_webhook_endpoint.types, coalesce(update_webhook_endpoint.events, _row.events),
    coalesce(update_webhook_endpoint.lifecycle, _row.lifecycle));
  update starcite.webhook_endpoints w set
    url = coalesce(update_webhook_endpoint.url, w.url),
    session_ids = case when update_webhook_endpoint.clear_sessions then null
                       else coalesce((select array_agg(distinct x order by x) from unnest(update_webhook_endpoint.session_ids) x),
                                     w.session_ids) end,
    types = case when update_webhook_endpoint.clear_types then null
                 else coalesce((select array_agg(distinct x order by x) from unnest(update_webhook_endpoint.types) x),
                               w.types) end,
    events = coalesce(update_webhook_endpoint.events, w.events),
    lifecycle = coalesce(update_webhook_endpoint.lifecycle, w.lifecycle),
    enabled = coalesce(update_webhook_endpoint.enabled, w.enabled),
    updated_at = clock_timestamp()
  where w.id = _row.id
  returning w.* into _row;
  return starcite.webhook_endpoint_info(_row);
end
$$;
