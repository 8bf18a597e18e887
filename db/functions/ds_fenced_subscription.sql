-- The subscription row, locked, when wake_id and generation are its current wake's (and someone holds it);
-- subscription_not_found or subscription_fenced otherwise. Callbacks, acks and releases go through it.
create function starcite.ds_fenced_subscription(id text, wake_id text, generation bigint, tenant_id text)
returns starcite.ds_subscriptions
language plpgsql volatile as $$
declare
  _s starcite.ds_subscriptions;
begin
  select x.* into _s from starcite.ds_subscriptions x
  where x.tenant_id = ds_fenced_subscription.tenant_id and x.id = ds_fenced_subscription.id for update;
  if _s.id is null then
    perform starcite.raise_error('subscription_not_found', format('subscription %s does not exist', ds_fenced_subscription.id),
      jsonb_build_object('id', ds_fenced_subscription.id));
  end if;
  if _s.wake_state <> 'claimed' or _s.wake_id is distinct from ds_fenced_subscription.wake_id
     or _s.generation is distinct from ds_fenced_subscription.generation then
    perform starcite.raise_error('subscription_fenced', 'that wake is not the current one',
      jsonb_build_object('id', _s.id, 'generation', _s.generation));
  end if;
  return _s;
end
$$;
