-- A pull-wake worker gives its lease back without acking: the subscription is idle again and, with work pending,
-- woken at once (a new wake event). subscription_fenced for any wake but the current one.
create function starcite.ds_release(id text, wake_id text, generation bigint, tenant_id text)
returns setof starcite.ds_wake
language plpgsql volatile as $$
declare
  _w starcite.ds_wake;
begin
  _w := starcite.ds_release_lease(starcite.ds_fenced_subscription(ds_release.id, ds_release.wake_id, ds_release.generation,
                                                                  ds_release.tenant_id));
  if _w.wake_id is not null then
    return next _w;
  end if;
end
$$;
