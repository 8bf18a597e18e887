-- Wakes a subscription if it is idle with pending work (after its streams advanced): the wake to deliver, or
-- nothing. Several server processes may call it for the same append; one UPDATE decides which one wakes it.
create function starcite.ds_wake(id text, tenant_id text) returns setof starcite.ds_wake
language plpgsql volatile as $$
declare
  _s starcite.ds_subscriptions;
  _w starcite.ds_wake;
begin
  select x.* into _s from starcite.ds_subscriptions x
  where x.tenant_id = ds_wake.tenant_id and x.id = ds_wake.id and x.wake_state = 'idle' for update;
  if _s.id is not null then
    _w := starcite.ds_issue_wake(_s);
    if _w.wake_id is not null then
      return next _w;
    end if;
  end if;
end
$$;
