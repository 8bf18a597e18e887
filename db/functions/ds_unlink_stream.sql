-- Removes an explicit link (DELETE __ds/subscriptions/:id/streams/:path; idempotent); a matching pattern keeps
-- following the stream.
create function starcite.ds_unlink_stream(id text, path text, tenant_id text default null) returns void
language plpgsql volatile as $$
declare
  _tenant text := starcite.resolve_tenant(ds_unlink_stream.tenant_id);
begin
  if not exists (select 1 from starcite.ds_subscriptions x where x.tenant_id = _tenant and x.id = ds_unlink_stream.id) then
    perform starcite.raise_error('subscription_not_found', format('subscription %s does not exist', ds_unlink_stream.id),
      jsonb_build_object('id', ds_unlink_stream.id));
  end if;
  delete from starcite.ds_subscription_links l
  where l.tenant_id = _tenant and l.subscription_id = ds_unlink_stream.id and l.path = ds_unlink_stream.path and not l.glob;
  update starcite.ds_subscription_links l set explicit = false
  where l.tenant_id = _tenant and l.subscription_id = ds_unlink_stream.id and l.path = ds_unlink_stream.path;
end
$$;
