-- The live stream at a path of a tenant, as (offset_epoch, tail_seq); no row when there is none.
create function starcite.ds_stream_tail(tenant_id text, path text)
returns table (offset_epoch bigint, tail_seq bigint)
language sql stable as $$
  select d.offset_epoch, x.last_seq - (x.closed_at is not null)::integer
  from (select d.* from starcite.ds_streams d
        where d.tenant_id = ds_stream_tail.tenant_id and d.path = ds_stream_tail.path
        order by d.incarnation desc limit 1) d
  join starcite.sessions x on x.id = d.session_id
  where d.deleted_at is null and not starcite.ds_expired(d.ttl_seconds, d.expires_at, d.last_access_at)
$$;
