-- A webhook endpoint as listed: everything but its secret.
create type starcite.webhook_endpoint_info as (
  id text, tenant_id text, url text, session_ids text[], types text[], events boolean, lifecycle boolean,
  enabled boolean, changes_delivered bigint, created_at timestamptz, updated_at timestamptz
);
