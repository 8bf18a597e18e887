-- Every error code the product knows, defined here once: its SQLSTATE (null for codes raised outside SQL by
-- the server), the HTTP status a REST surface answers with, and when it happens. raise_error derives the
-- SQLSTATE from it; src/db/errors.ts, the SDK's code list and the README's table are tested against it.
create function starcite.error_codes()
returns table (code text, sqlstate text, http_status integer, description text)
language sql immutable parallel safe as $$
  values
    ('invalid_argument',         'SC001', 400, 'an argument is out of range or malformed: limit, cursor, session id, scopes, tenant'),
    ('invalid_event',            'SC002', 400, 'empty or too long `type`, non-object `payload`, `producer_id` without `producer_seq`, a string with `\u0000` or a lone UTF-16 surrogate in any field (keys included), JSON nested deeper than 64, ...'),
    ('payload_too_large',        'SC003', 413, 'payload over 262,144 bytes; metadata or refs over 16,384; session metadata over 65,536; an HTTP request body over its limit'),
    ('session_not_found',        'SC100', 404, 'no such session in your tenant (or not the session your token is for)'),
    ('session_exists',           'SC101', 409, '`create_session` with a taken id'),
    ('version_conflict',         'SC102', 409, '`update_session` with a stale `expected_version`'),
    ('session_closed',           'SC103', 409, 'an append to a closed session (a Durable Stream closed with `Stream-Closed: true`; detail: its tail)'),
    ('expected_seq_conflict',    'SC200', 409, '`expected_seq` ≠ the session''s `last_seq` (detail: `last_seq`)'),
    ('producer_seq_conflict',    'SC201', 409, '`producer_seq` is not the producer''s last + 1 (detail: `expected_producer_seq`)'),
    ('producer_replay_conflict', 'SC202', 409, 'a used `producer_seq` with different content (detail: original `seq`)'),
    ('idempotency_conflict',     'SC203', 409, 'a used `idempotency_key` with different content'),
    ('unauthorized',             'SC300', 401, 'missing, unknown, revoked or expired credential'),
    ('forbidden_scope',          'SC301', 403, 'the credential lacks the scope (or is a session token doing a backend''s job), or grants a scope it does not hold'),
    ('token_expired',            'SC302', 401, 'the session token expired (a tail ends with it: refresh and resume from the cursor)'),
    ('forbidden_actor',          'SC303', 403, 'a session token tried to append as someone else'),
    ('key_not_found',            'SC304', 404, 'revoking an unknown key'),
    ('stream_conflict',          'SC400', 409, 'Durable Streams: a PUT whose content type, TTL, expiry, closure or fork differs from the existing stream''s, or on a path that is deleted but still has forks'),
    ('content_type_mismatch',    'SC401', 409, 'Durable Streams: the request''s content type is not the stream''s'),
    ('stream_seq_conflict',      'SC402', 409, 'Durable Streams: `Stream-Seq` not greater (byte-wise) than the last one accepted'),
    ('producer_epoch_stale',     'SC403', 403, 'Durable Streams: `Producer-Epoch` below the producer''s current epoch (detail: `current_epoch`)'),
    ('stream_gone',              'SC404', 410, 'Durable Streams: the stream was deleted or expired but forks still use it, or the offset belongs to data that was deleted'),
    ('subscription_not_found',   'SC410', 404, 'Durable Streams: no such subscription'),
    ('subscription_conflict',    'SC411', 409, 'Durable Streams: a subscription PUT whose configuration differs from the existing one''s'),
    ('subscription_fenced',      'SC412', 409, 'Durable Streams: a callback, ack or release for a wake that is no longer current'),
    ('subscription_claimed',     'SC413', 409, 'Durable Streams: another worker holds the subscription''s lease (detail: `current_holder`, `generation`)'),
    ('subscription_no_work',     'SC414', 409, 'Durable Streams: a claim of a subscription with nothing pending'),
    ('webhook_url_rejected',     null,    400, 'a webhook URL (an endpoint''s or a Durable Streams subscription''s) that is not https, or targets a private, link-local or loopback host (http on localhost is allowed outside production)'),
    ('webhook_not_found',        'SC305', 404, 'no such webhook endpoint in your tenant'),
    ('cursor_expired',           'SC105', 410, 'the cursor is before the earliest event (or session change) still kept: retention removed what follows it (detail: `earliest_seq`, resume from `earliest_seq - 1` or start over)'),
    ('internal_error',           'SC000', 500, 'anything unexpected (logged server-side, never detailed to clients)'),
    ('database_unavailable',     null,    503, 'the server cannot reach Postgres (retry / resume)'),
    ('shutting_down',            null,    503, 'the server is draining (retry elsewhere)'),
    ('bad_request',              null,    400, 'malformed GraphQL: syntax, unknown fields, wrong variable types, a document over a limit (detail: `limit`, `max`), a batch; a REST body that is not JSON'),
    ('overloaded',               null,    429, 'more than 10,000 appends are waiting for the database on this server: retry with backoff'),
    ('route_not_found',          null,    404, 'no such route (the body points at `/graphql` and the REST docs)'),
    ('method_not_allowed',       null,    405, 'the route exists for other methods'),
    ('unsupported_media_type',   null,    415, 'a request body that is not `application/json`'),
    ('too_many_requests',        null,    429, 'too many failed authentications from one address (see `Retry-After`), or too many operations on one socket')
$$;

comment on function starcite.error_codes() is 'Every error code with its SQLSTATE (null: raised by the server), HTTP status and meaning.';
