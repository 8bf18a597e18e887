-- Every enabled endpoint's id (all tenants): what the webhook workers share out among themselves.
create function starcite.webhook_endpoint_ids()
returns setof text
language sql stable as $$
  select w.id from starcite.webhook_endpoints w where w.enabled order by w.id
$$;
