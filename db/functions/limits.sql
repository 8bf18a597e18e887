-- Every documented limit, defined here once. The functions read them with starcite.limit_value(name), which
-- the planner folds into a constant; the README's limits table is tested against this list.
create function starcite.limits()
returns table (name text, value bigint, description text)
language sql immutable parallel safe as $$
  values
    ('session_id_chars',       128,    'characters in a session id (`[A-Za-z0-9_.:-]`, starting with a letter or digit)'),
    ('session_title_chars',    1000,   'characters in a session title'),
    ('session_metadata_bytes', 65536,  'bytes of a session''s metadata (as JSON text)'),
    ('tenant_id_chars',        64,     'characters in a tenant id (`[A-Za-z0-9_.-]`, starting with a letter or digit)'),
    ('event_type_chars',       128,    'characters in an event''s `type` (at least 1)'),
    ('event_payload_bytes',    262144, 'bytes of an event''s `payload` (a JSON object, as JSON text)'),
    ('event_metadata_bytes',   16384,  'bytes of an event''s `metadata` (as JSON text)'),
    ('event_refs_bytes',       16384,  'bytes of an event''s `refs` (as JSON text)'),
    ('event_body_bytes',       8388608, 'bytes of an event''s binary `body` (a message of a non-JSON Durable Stream), and of a Durable Streams request body'),
    ('event_actor_chars',      256,    'characters in an event''s `actor`'),
    ('event_source_chars',     256,    'characters in an event''s `source`'),
    ('idempotency_key_chars',  256,    'characters in an `idempotency_key` (at least 1)'),
    ('producer_id_chars',      256,    'characters in a `producer_id` (at least 1)'),
    ('events_per_call',        1000,   'events in one `append_batch` or `append_items` call'),
    ('events_per_read',        1000,   '`max_events` of one `read`'),
    ('events_per_json_read',   10000,  '`max_events` of one `read_json` (a page serialised once, in SQL)'),
    ('json_read_bytes',        8388608, '`max_bytes` of one `read_json`: it stops after the event whose payload crosses it'),
    ('sessions_per_list',      1000,   '`max_sessions` of one `list_sessions`'),
    ('api_key_name_chars',     200,    'characters in an API key''s name (at least 1)'),
    ('stream_path_chars',      120,    'characters of a Durable Stream path''s session id (`ds:` + the escaped path; 8 more are kept for the incarnation suffix)'),
    ('stream_messages_per_append', 50000, 'messages in one Durable Streams JSON append (after flattening one array level)'),
    ('stream_ttl_seconds',     315360000, 'a Durable Stream''s `Stream-TTL` in seconds (ten years)'),
    ('changes_per_read',       1000,   '`max_changes` of one `read_changes`'),
    ('webhook_url_chars',      2048,   'characters in a webhook endpoint''s URL (`http://` or `https://`)'),
    ('webhook_filter_items',   100,    'session ids, or event types, in one webhook endpoint''s filter'),
    ('webhook_endpoints_per_tenant', 100, 'webhook endpoints of one tenant'),
    ('deliveries_per_list',    1000,   '`max_deliveries` of one `list_webhook_deliveries`')
$$;

comment on function starcite.limits() is 'Every documented limit: its name, value and what it bounds.';
