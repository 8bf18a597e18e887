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
  CloseCode.BadRequest, CloseCode.Unauthorized, CloseCode.Forbidden, CloseCode.SubprotocolNotAcceptable,
  CloseCode.SubscriberAlreadyExists, CloseCode.TooManyInitialisationRequests, CloseCode.MessageTooBig,
]);
