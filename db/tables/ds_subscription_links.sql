-- The streams a subscription follows, by path (a path may be linked before its stream exists, and stays
-- linked across incarnations), with the cursor the subscriber has acknowledged: (acked_epoch, acked_seq) is
-- an offset of the stream, last processed inclusive.
create table starcite.ds_subscription_links (
  tenant_id       text not null,
  subscription_id text not null,
  path            text not null,
  explicit        boolean not null default false,
  glob            boolean not null default false,
  acked_epoch     bigint,
  acked_seq       bigint not null default 0 check (acked_seq >= 0),
  primary key (tenant_id, subscription_id, path),
  foreign key (tenant_id, subscription_id) references starcite.ds_subscriptions (tenant_id, id) on delete cascade,
  check (explicit or glob)
);

create index ds_subscription_links_path_idx on starcite.ds_subscription_links (tenant_id, path);

alter table starcite.ds_subscription_links enable row level security;

create policy ds_subscription_links_tenant_isolation on starcite.ds_subscription_links
  using (tenant_id = starcite.current_tenant())
  with check (tenant_id = starcite.current_tenant());

comment on table starcite.ds_subscription_links is 'Durable Streams subscription links: a followed stream path and its acknowledged offset.';
