-- DELETE __ds/subscriptions/:id: removes it with its links; callbacks, acks and releases for it fail from then on.
create function starcite.ds_unsubscribe(id text, tenant_id text default null) returns void
language plpgsql volatile as $$
begin
  delete from starcite.ds_subscriptions x
  where x.tenant_id = starcite.resolve_tenant(ds_unsubscribe.tenant_id) and x.id = ds_unsubscribe.id;
  if not found then
    perform starcite.raise_error('subscription_not_found', format('subscription %s does not exist', ds_unsubscribe.id),
      jsonb_build_object('id', ds_unsubscribe.id));
  end if;
end
$$;
