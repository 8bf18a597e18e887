-- Adds explicit links (POST __ds/subscriptions/:id/streams; idempotent): a stream that exists is followed from its
-- tail, one that does not yet from its first message. A path already linked keeps its cursor.
create function starcite.ds_link_streams(id text, paths text[], tenant_id text default null) returns void
language plpgsql volatile as $$
declare
  _tenant text := starcite.resolve_tenant(ds_link_streams.tenant_id);
  _path   text;
begin
  if not exists (select 1 from starcite.ds_subscriptions x where x.tenant_id = _tenant and x.id = ds_link_streams.id) then
    perform starcite.raise_error('subscription_not_found', format('subscription %s does not exist', ds_link_streams.id),
      jsonb_build_object('id', ds_link_streams.id));
  end if;
  if cardinality(ds_link_streams.paths) > 1000 then
    perform starcite.raise_error('invalid_argument', 'at most 1000 streams per request', '{"field":"streams"}');
  end if;
  foreach _path in array coalesce(ds_link_streams.paths, '{}') loop
    perform starcite.ds_check_path(_path);
  end loop;
  insert into starcite.ds_subscription_links as l (tenant_id, subscription_id, path, explicit, acked_epoch, acked_seq)
  select _tenant, ds_link_streams.id, p.path, true, t.offset_epoch, coalesce(t.tail_seq, 0)
  from (select distinct unnest(ds_link_streams.paths) as path) p
  left join lateral starcite.ds_stream_tail(_tenant, p.path) t on true
  on conflict on constraint ds_subscription_links_pkey do update set explicit = true;
end
$$;
