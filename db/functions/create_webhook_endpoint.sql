-- Creates a webhook endpoint and returns its row with the signing secret (whsec_..., shown only here). It receives
-- events appended and session changes recorded from about now on (not history).
create function starcite.create_webhook_endpoint(url text, session_ids text[] default null, types text[] default null,
                                                 events boolean default true, lifecycle boolean default true,
                                                 tenant_id text default null)
returns starcite.webhook_endpoints
language plpgsql volatile as $$
declare
  _tenant text := starcite.resolve_tenant(create_webhook_endpoint.tenant_id);
  _row starcite.webhook_endpoints;
begin
  if create_webhook_endpoint.url is null then
    perform starcite.raise_error('invalid_argument', 'url is required', '{"field":"url"}');
  end if;
  perform starcite.check_webhook_fields(create_webhook_endpoint.url, create_webhook_endpoint.session_ids,
    create_webhook_endpoint.types, coalesce(create_webhook_endpoint.events, true),
    coalesce(create_webhook_endpoint.lifecycle, true));
  -- The tenant row, locked, keeps two concurrent creates from both passing the count check.
  perform 1 from starcite.tenants t where t.id = _tenant for no key update;
  if not found then
    perform starcite.raise_error('invalid_argument', format('tenant %s does not exist', _tenant), '{"field":"tenant_id"}');
  end if;
  if (select count(*) from starcite.webhook_endpoints w where w.tenant_id = _tenant)
     >= starcite.limit_value('webhook_endpoints_per_tenant') then
    perform starcite.raise_error('invalid_argument',
      format('a tenant has at most %s webhook endpoints', starcite.limit_value('webhook_endpoints_per_tenant')),
      jsonb_build_object('field', 'url', 'max', starcite.limit_value('webhook_endpoints_per_tenant')));
  end if;
  insert into starcite.webhook_endpoints (id, tenant_id, url, secret, session_ids, types, events, lifecycle,
                                          changes_delivered)
  values ('whk_' || left(starcite.random_token(1), 16), _tenant, create_webhook_endpoint.url,
          'whsec_' || starcite.random_token(2),
          (select array_agg(distinct x order by x) from unnest(create_webhook_endpoint.session_ids) x),
          (select array_agg(distinct x order by x) from unnest(create_webhook_endpoint.types) x),
          coalesce(create_webhook_endpoint.events, true), coalesce(create_webhook_endpoint.lifecycle, true),
          starcite.last_change_seq(_tenant))
  returning * into _row;
  return _row;
end
$$;
