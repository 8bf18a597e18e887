/**
 * The wire contract: the shapes of the starcite API as clients receive them (mirroring schema.graphql).
 * The server's data layer uses these same types, so there is one definition of each.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * One entry of a session's log, as the GraphQL `Event` type delivers it: `seq` (1, 2, 3, ... without
 * gaps), `actor` (who wrote it, e.g. "agent:drafter"), `insertedAt` (ISO-8601, UTC, microseconds), ...
 */
export interface StarciteEvent {
  sessionId: string;
  seq: number;
  type: string;
  payload: JsonObject;
  actor: string | null;
  source: string | null;
  metadata: JsonObject | null;
  refs: JsonValue | null;
  idempotencyKey: string | null;
  producerId: string | null;
  producerSeq: number | null;
  /** ISO-8601 with microseconds. */
  insertedAt: string;
}

export interface SessionInfo {
  id: string;
  title: string | null;
  metadata: JsonObject;
  lastSeq: number;
  version: number;
  archived: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface AppendResult {
  seq: number;
  /** True when this append was a retry of an event already in the log (the original seq is returned). */
  deduped: boolean;
  /** The session's last seq right after this append. */
  lastSeq: number;
}

/** The wire form of one event to append (the server's AppendInput). */
export interface AppendEventInput {
  type?: string;
  payload: JsonObject;
  actor?: string;
  source?: string;
  metadata?: JsonObject;
  refs?: JsonValue;
  idempotencyKey?: string;
  producerId?: string;
  producerSeq?: number;
  expectedSeq?: number;
}

export interface EventPage {
  events: StarciteEvent[];
  nextCursor: number;
  lastSeq: number;
}

export interface TailBatch {
  events: StarciteEvent[];
  cursor: number;
  live: boolean;
}

export type PrincipalType = "user" | "agent";

export type SessionChangeKind = "created" | "updated" | "archived" | "unarchived" | "deleted";

/**
 * One entry of a tenant's lifecycle feed: `seq` is 1, 2, 3, ... per tenant, gapless and in commit order, so a
 * cursor "seq > N" never misses a change that committed late. `version` and `archived` are the session's after
 * the change (before it, for `deleted`).
 */
export interface SessionChange {
  seq: number;
  sessionId: string;
  kind: SessionChangeKind;
  version: number;
  archived: boolean;
  /** ISO-8601 with microseconds. */
  changedAt: string;
}

export interface SessionChangePage {
  changes: SessionChange[];
  /** Pass as `after` for the next page. */
  nextCursor: number;
  /** The seq of the tenant's newest change. */
  lastSeq: number;
}

export interface SessionChangeBatch {
  changes: SessionChange[];
  cursor: number;
  live: boolean;
}

export interface WebhookEndpointInfo {
  id: string;
  url: string;
  /** Only these sessions (null: all of the tenant's). */
  sessionIds: string[] | null;
  /** Only events of these types (null: all). */
  types: string[] | null;
  /** Receives events. */
  events: boolean;
  /** Receives session changes. */
  lifecycle: boolean;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface CreatedWebhookEndpoint {
  endpoint: WebhookEndpointInfo;
  /** The signing secret (whsec_...): shown once. */
  secret: string;
}

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  /** null: a batch of session changes. */
  sessionId: string | null;
  fromSeq: number;
  toSeq: number;
  items: number;
  status: "pending" | "succeeded";
  attempts: number;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

export interface RetentionPolicyInfo {
  /** Which policy is in force: the session's own, its tenant's, or none. */
  scope: "session" | "tenant" | null;
  /** Events older than this many seconds are expired. */
  maxAgeSeconds: number | null;
  maxEvents: number | null;
  archive: boolean;
}

export interface SessionTokenInfo {
  token: string;
  expiresAt: string;
}

export interface ApiKeyInfo {
  id: string;
  tenantId: string;
  name: string;
  keyPrefix: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface CreatedApiKey {
  key: ApiKeyInfo;
  /** The secret (sk_...): shown once. */
  secret: string;
}

export interface Viewer {
  kind: string;
  id: string;
  tenantId: string;
  scopes: string[];
  sessionId: string | null;
  expiresAt: string | null;
}

/**
 * WebSocket close codes the server uses, and what a client does on each (docs/protocol.md). 4400-4500 are
 * graphql-ws's own; starcite closes with 4401 (and the reason "<code>: <message>") for a refused credential.
 */
export const CloseCode = {
  /** The client ended the connection. */
  Normal: 1000,
  /** The server is shutting down (or restarting): reconnect, elsewhere if you can, and resume from your cursor. */
  GoingAway: 1001,
  /** A frame larger than the server's limit (1 MiB by default). Fix the client. */
  MessageTooBig: 1009,
  /**
   * Too many failed authentications from this address, or too many open sockets for this credential (reason
   * `"too_many_requests: ..."`). Reconnect with backoff.
   */
  TryAgainLater: 1013,
  /** A message the protocol does not allow (malformed, or one only a server may send). Fix the client. */
  BadRequest: 4400,
  /** The credential was missing, unknown, revoked or expired: get a new one before reconnecting. */
  Unauthorized: 4401,
  /** Refused by policy (graphql-ws reserves it; its client retries it, so starcite uses 4401 for credentials). */
  Forbidden: 4403,
  /** Not the graphql-transport-ws subprotocol. */
  SubprotocolNotAcceptable: 4406,
  /** No connection_init within the server's wait (3 s). Reconnect. */
  ConnectionInitialisationTimeout: 4408,
  /** A subscribe with an id that is already running on this socket. Fix the client. */
  SubscriberAlreadyExists: 4409,
  /** A second connection_init on one socket. Fix the client. */
  TooManyInitialisationRequests: 4429,
  /** Unexpected server failure. Reconnect with backoff and resume from your cursor. */
  InternalServerError: 4500,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Close codes after which reconnecting as before cannot help: the client must change something first. */
export const TERMINAL_CLOSE_CODES: ReadonlySet<number> = new Set<number>([
  CloseCode.BadRequest,
  CloseCode.Unauthorized,
  CloseCode.Forbidden,
  CloseCode.SubprotocolNotAcceptable,
  CloseCode.SubscriberAlreadyExists,
  CloseCode.TooManyInitialisationRequests,
  CloseCode.MessageTooBig,
]);
// ---------------------------------------------------------------------------------------------------
// Webhooks: every delivery is a POST with a JSON body (WebhookBody) and these headers.

export const WebhookHeader = {
  /** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the endpoint's secret>`. */
  Signature: "starcite-signature",
  /** The delivery id (dlv_...): the same on every retry of a delivery, so receivers can drop repeats. */
  Delivery: "starcite-delivery",
  /** 1 on the first try, then 2, 3, ... */
  Attempt: "starcite-attempt",
} as const;

/** A batch of one session's events, in seq order (snake_case fields, as REST). */
export interface WebhookEventsBody {
  id: string;
  endpoint_id: string;
  type: "events";
  tenant_id: string;
  session_id: string;
  /** The seq range this delivery covers (events of other types in it are filtered out). */
  from_seq: number;
  to_seq: number;
  events: RestEvent[];
}

export interface WebhookChangesBody {
  id: string;
  endpoint_id: string;
  type: "session_changes";
  tenant_id: string;
  from_seq: number;
  to_seq: number;
  changes: RestSessionChange[];
}

export type WebhookBody = WebhookEventsBody | WebhookChangesBody;

// ---------------------------------------------------------------------------------------------------
// REST (snake_case, field names of the open-source Starcite REST API) and its plain-WebSocket / SSE tail.

/** A session as REST returns it. */
export interface RestSession {
  id: string;
  title: string | null;
  metadata: JsonObject;
  last_seq: number;
  archived: boolean;
  version: number;
  created_at: string;
  updated_at: string;
}

/** An event as REST and the plain tails deliver it. */
export interface RestEvent {
  session_id: string;
  seq: number;
  type: string;
  payload: JsonObject;
  actor: string | null;
  source: string | null;
  metadata: JsonObject | null;
  refs: JsonValue | null;
  idempotency_key: string | null;
  producer_id: string | null;
  producer_seq: number | null;
  /** ISO-8601 with microseconds. */
  inserted_at: string;
}

/** A session change as REST (and webhook bodies) carry it. */
export interface RestSessionChange {
  seq: number;
  session_id: string;
  kind: SessionChangeKind;
  version: number;
  archived: boolean;
  changed_at: string;
}

/** One event to append over REST. */
export interface RestAppendInput {
  type?: string;
  payload: JsonObject;
  actor?: string;
  source?: string;
  metadata?: JsonObject;
  refs?: JsonValue;
  idempotency_key?: string;
  producer_id?: string;
  producer_seq?: number;
  expected_seq?: number;
}

export interface RestAppendResult {
  seq: number;
  last_seq: number;
  deduped: boolean;
}

export interface RestEventPage {
  events: RestEvent[];
  /** Pass as `cursor` for the next page (equals the cursor given when the page is empty). */
  next_cursor: number;
  last_seq: number;
}

export interface RestSessionPage {
  sessions: RestSession[];
  /** Pass as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
}

export interface RestSessionToken {
  token: string;
  /** Seconds until the token expires. */
  expires_in: number;
  expires_at: string;
}

/** Every REST error body. */
export interface RestError {
  error: string;
  message: string;
  /** Code-specific fields (e.g. `expected_producer_seq`, `field`), when there are any. */
  detail?: Record<string, unknown>;
}

/**
 * The control frame of the plain-WebSocket tail (an SSE tail sends the same object as `event: caught_up`).
 * Frames with a `control` key are control frames; every other frame is an event (or an array of events).
 */
export interface TailCaughtUp {
  control: "caught_up";
  /** Seq of the last replayed event: every later frame is live. */
  cursor: number;
}

/**
 * Close codes of the plain-WebSocket tail (`GET /v1/sessions/:id/tail`; graphql-ws on /graphql has its own,
 * `CloseCode` above): 4000 + the HTTP status of the error that closed it, or a standard code; the reason is
 * always "<error code>: <message>". 4xxx codes mean the request must change before reconnecting, except
 * `TooManyRequests` (back off); 1001, 1011 and 1013 are retryable: reconnect from your cursor.
 */
export const TailCloseCode = {
  /** The tail ended normally (the client closed it). */
  Normal: 1000,
  /** The server is shutting down (`shutting_down`): reconnect from your cursor, possibly elsewhere. */
  GoingAway: 1001,
  /** An unexpected server error (`internal_error`). */
  InternalError: 1011,
  /** The database is unreachable (`database_unavailable`): reconnect from your cursor with backoff. */
  TryAgainLater: 1013,
  /** `invalid_argument`, `bad_request`, ...: e.g. a cursor beyond the session's last seq. */
  BadRequest: 4400,
  /** `unauthorized` or `token_expired`: get a fresh credential, then reconnect from your cursor (as on /graphql). */
  Unauthorized: CloseCode.Unauthorized,
  /** `forbidden_scope` / `forbidden_actor`. */
  Forbidden: 4403,
  /** `session_not_found` (also another tenant's session, or not the session the token is for). */
  NotFound: 4404,
  Conflict: 4409,
  /** `cursor_expired`: retention removed the events after your cursor; `earliest_seq` is in the reason's detail. Do not retry as is. */
  Gone: 4410,
  PayloadTooLarge: 4413,
  /** `overloaded`: back off, then reconnect from your cursor. */
  TooManyRequests: 4429,
} as const;

export type TailCloseCode = (typeof TailCloseCode)[keyof typeof TailCloseCode];

/** The error model: the codes every surface answers with and the one error class (shared with the server). */
export {
  StarciteError,
  isStarciteError,
  isRetryableCode,
  SERVER_ERROR_CODES,
  type ServerErrorCode,
  type StarciteErrorCode,
  type StarciteErrorOptions,
} from "./errors.ts";
