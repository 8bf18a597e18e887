-- DELETE: deletes a Durable Stream and its session (events, producers). Its row stays, marked: with forks still
-- live it answers 410 and keeps its path from a new PUT until they are gone. Deleting a deleted stream that forks
-- still use is stream_gone; one that is gone for good is session_not_found.
create function starcite.ds_delete(path text, tenant_id text default null) returns void
language plpgsql volatile as $$
declare
  _tenant text := starcite.resolve_tenant(ds_delete.tenant_id);
  _s      starcite.ds_streams;
begin
  select d.* into _s from starcite.ds_streams d where d.path = ds_delete.path order by d.incarnation desc limit 1 for update;
  perform starcite.ds_raise_unless_live(_s, ds_delete.path, _tenant);
  update starcite.ds_streams d set deleted_at = now() where d.id = _s.id;
  delete from starcite.sessions x where x.id = _s.session_id;
end
$$;
