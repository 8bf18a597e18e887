-- The stream at a path, for a read (touch: a read moves the sliding TTL; HEAD does not): session_not_found or
-- stream_gone unless it is live. (An expired stream's session is deleted later, by ds_sweep or the next PUT:
-- an error rolls back whatever this call would write.)
create function starcite.ds_resolve(path text, touch boolean default true, tenant_id text default null)
returns starcite.ds_stream_state
language plpgsql volatile as $$
declare
  _tenant text := starcite.resolve_tenant(ds_resolve.tenant_id);
  _s      starcite.ds_streams;
begin
  select d.* into _s from starcite.ds_streams d where d.path = ds_resolve.path order by d.incarnation desc limit 1;
  perform starcite.ds_raise_unless_live(_s, ds_resolve.path, _tenant);
  if ds_resolve.touch and _s.ttl_seconds is not null then
    update starcite.ds_streams d set last_access_at = now() where d.id = _s.id;
  end if;
  return starcite.ds_state(_s);
end
$$;
