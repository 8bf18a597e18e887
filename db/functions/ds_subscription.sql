-- GET __ds/subscriptions/:id: the configuration, wake state and links (with their streams' tails) as one document.
create function starcite.ds_subscription(id text, tenant_id text default null) returns jsonb
language plpgsql stable as $$
declare
  _tenant text := starcite.resolve_tenant(ds_subscription.tenant_id);
  _doc    jsonb;
begin
  select jsonb_build_object('id', x.id, 'type', x.type, 'pattern', x.pattern, 'webhook_url', x.webhook_url,
           'wake_stream', x.wake_stream, 'lease_ttl_ms', x.lease_ttl_ms, 'description', x.description,
           'created_at', x.created_at, 'base_url', x.base_url, 'generation', x.generation,
           'status', case when x.attempts > 0 then 'failed' else 'active' end,
           'streams', coalesce((select jsonb_agg(to_jsonb(t)) from starcite.ds_link_tails(x.tenant_id, x.id) t), '[]'))
  into _doc
  from starcite.ds_subscriptions x where x.tenant_id = _tenant and x.id = ds_subscription.id;
  if _doc is null then
    perform starcite.raise_error('subscription_not_found', format('subscription %s does not exist', ds_subscription.id),
      jsonb_build_object('id', ds_subscription.id));
  end if;
  return _doc;
end
$$;
