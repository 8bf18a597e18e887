-- Settles up to max_streams expired Durable Streams (ds_settle): their sessions are deleted. Streams are also
-- settled whenever a request finds them expired; this catches the ones nobody asks for again. Returns how many.
create function starcite.ds_sweep(max_streams integer default 100) returns integer
language plpgsql volatile as $$
declare
  _s     starcite.ds_streams;
  _count integer := 0;
begin
  for _s in
    select d.* from starcite.ds_streams d
    where d.deleted_at is null and (d.ttl_seconds is not null or d.expires_at is not null)
      and starcite.ds_expired(d.ttl_seconds, d.expires_at, d.last_access_at)
    limit ds_sweep.max_streams
    for update skip locked
  loop
    perform starcite.ds_settle(_s);
    _count := _count + 1;
  end loop;
  return _count;
end
$$;
