-- A session's effective retention: its own policy, else its tenant's (scope says which; all null: none).
create type starcite.retention_policy as (
  scope      text,      -- 'session', 'tenant' or null
  max_age    interval,
  max_events bigint,
  archive    boolean
);
