-- PUT __ds/subscriptions/:id: creates a subscription (true) or re-confirms one with the same configuration
-- (false); another configuration is subscription_conflict. The configuration's hash covers type, pattern, the
-- sorted distinct streams, webhook URL, wake stream, lease and description. A new subscription follows the
-- streams its pattern matches now and the ones it lists, from their current tails (no history is replayed).
create function starcite.ds_subscribe(id text, type text, pattern text default null, streams text[] default null,
                                      webhook_url text default null, wake_stream text default null,
                                      lease_ttl_ms integer default 30000, description text default null,
                                      base_url text default '', tenant_id text default null)
returns boolean
language plpgsql volatile as $$
declare
  _tenant  text := starcite.resolve_tenant(ds_subscribe.tenant_id);
  _streams text[] := array(select distinct s from unnest(coalesce(ds_subscribe.streams, '{}')) s order by s);
  _hash    text;
  _old     text;
  _path    text;
begin
  perform starcite.ds_check_subscription_id(ds_subscribe.id);
  if ds_subscribe.type is null or ds_subscribe.type not in ('webhook', 'pull-wake') then
    perform starcite.raise_error('invalid_argument', 'type is webhook or pull-wake', '{"field":"type"}');
  elsif ds_subscribe.pattern is null and cardinality(_streams) = 0 then
    perform starcite.raise_error('invalid_argument', 'a subscription needs a pattern or streams', '{"field":"pattern"}');
  elsif ds_subscribe.pattern = '' or ds_subscribe.pattern ~ '^/|/$|//|[[:cntrl:]]' then
    perform starcite.raise_error('invalid_argument', 'a pattern is one or more non-empty segments separated by /',
      '{"field":"pattern"}');
  elsif ds_subscribe.type = 'webhook' and coalesce(ds_subscribe.webhook_url, '') = '' then
    perform starcite.raise_error('invalid_argument', 'a webhook subscription needs webhook.url', '{"field":"webhook"}');
  elsif ds_subscribe.type = 'pull-wake' and ds_subscribe.wake_stream is null then
    perform starcite.raise_error('invalid_argument', 'a pull-wake subscription needs wake_stream', '{"field":"wake_stream"}');
  elsif ds_subscribe.lease_ttl_ms is null or ds_subscribe.lease_ttl_ms not between 1000 and 600000 then
    perform starcite.raise_error('invalid_argument', 'lease_ttl_ms is 1000 to 600000', '{"field":"lease_ttl_ms"}');
  elsif char_length(ds_subscribe.description) > 1000 then
    perform starcite.raise_error('invalid_argument', 'description is at most 1000 characters', '{"field":"description"}');
  elsif cardinality(_streams) > 1000 then
    perform starcite.raise_error('invalid_argument', 'at most 1000 streams per request', '{"field":"streams"}');
  end if;
  foreach _path in array _streams loop
    perform starcite.ds_check_path(_path);
  end loop;
  if ds_subscribe.wake_stream is not null then
    perform starcite.ds_check_path(ds_subscribe.wake_stream);
  end if;

  _hash := md5(jsonb_build_object('type', ds_subscribe.type, 'pattern', ds_subscribe.pattern, 'streams', to_jsonb(_streams),
                                  'webhook_url', case when ds_subscribe.type = 'webhook' then ds_subscribe.webhook_url end,
                                  'wake_stream', case when ds_subscribe.type = 'pull-wake' then ds_subscribe.wake_stream end,
                                  'lease_ttl_ms', ds_subscribe.lease_ttl_ms, 'description', ds_subscribe.description)::text);
  insert into starcite.ds_subscriptions (tenant_id, id, type, pattern, pattern_regex, webhook_url, wake_stream,
                                         lease_ttl_ms, description, config_hash, base_url)
  values (_tenant, ds_subscribe.id, ds_subscribe.type, ds_subscribe.pattern, starcite.ds_glob_regex(ds_subscribe.pattern),
          case when ds_subscribe.type = 'webhook' then ds_subscribe.webhook_url end,
          case when ds_subscribe.type = 'pull-wake' then ds_subscribe.wake_stream end,
          ds_subscribe.lease_ttl_ms, ds_subscribe.description, _hash, ds_subscribe.base_url)
  on conflict on constraint ds_subscriptions_pkey do nothing;
  if not found then
    select x.config_hash into _old from starcite.ds_subscriptions x where x.tenant_id = _tenant and x.id = ds_subscribe.id;
    if _old = _hash then
      return false;
    end if;
    perform starcite.raise_error('subscription_conflict',
      format('subscription %s exists with another configuration', ds_subscribe.id), jsonb_build_object('id', ds_subscribe.id));
  end if;

  if ds_subscribe.pattern is not null then
    insert into starcite.ds_subscription_links (tenant_id, subscription_id, path, glob, acked_epoch, acked_seq)
    select _tenant, ds_subscribe.id, d.path, true, t.offset_epoch, t.tail_seq
    from (select distinct d.path from starcite.ds_streams d
          where d.tenant_id = _tenant and '/' || d.path ~ starcite.ds_glob_regex(ds_subscribe.pattern)) d
    join lateral starcite.ds_stream_tail(_tenant, d.path) t on true;
  end if;
  perform starcite.ds_link_streams(ds_subscribe.id, _streams, _tenant);
  return true;
end
$$;
