/**
 * Every limit the server enforces, in one place. The event and session numbers restate the SQL layer's
 * (`starcite.limits()` in db/functions/limits.sql), so a request is refused in
 * TypeScript with the code SQL would give it, before Postgres sees it; a test compares the two.
 * Transport limits (bodies, documents, sockets) exist only here. README "Limits" lists them all.
 */

/** Strings Postgres cannot store (NUL) or that are not Unicode (lone surrogates) are refused everywhere. */
export const EVENT_LIMITS = {
  /** `type`: 1..128 characters (code points). */
  typeChars: 128,
  /** `payload`: a JSON object of at most this many bytes (UTF-8 of its JSON text). */
  payloadBytes: 262_144,
  /** `metadata` (object) and `refs` (object or array). */
  metadataBytes: 16_384,
  refsBytes: 16_384,
  /** `actor`, `source`, `idempotencyKey`, `producerId`: at most this many characters. */
  textChars: 256,
  /** Nesting of payload, metadata and refs (a scalar is depth 0, `{}` depth 1). Not a SQL limit: JSON this deep is a mistake. */
  jsonDepth: 64,
  /** `producer_seq` and `expected_seq` are bigints in SQL. */
  maxSeq: Number.MAX_SAFE_INTEGER,
  /** Events in one `appendBatch` / `append_batch`. */
  batchEvents: 1000,
} as const;

export const SESSION_LIMITS = {
  /** Session ids: 1..128 of [A-Za-z0-9_.:-], starting with a letter or digit. */
  idPattern: /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/,
  titleChars: 1000,
  metadataBytes: 65_536,
  /** `limit` of reads and listings. */
  pageMax: 1000,
} as const;

export const KEY_LIMITS = {
  nameChars: 200,
} as const;

/** Any other string argument (tenant ids, cursors, key ids): at most this many characters. */
export const ARGUMENT_CHARS = 1024;

/** HTTP requests (all routes, before routing). */
export const HTTP_LIMITS = {
  /** Request bodies; larger ones are answered 413 (also when declared by Content-Length, before reading). */
  bodyBytes: 8 * 1024 * 1024,
  /** Request line target (path + query). */
  urlChars: 8192,
} as const;

/** Durable Streams (src/streams). */
export const STREAM_LIMITS = {
  /** One PUT or POST body, read whole: SQL's `event_body_bytes` (the largest message a binary stream stores). */
  bodyBytes: 8 * 1024 * 1024,
} as const;

/** GraphQL documents, checked before validation (so a hostile document never reaches the recursive rules). */
export const DOCUMENT_LIMITS = {
  /** Lexer tokens in one document. */
  tokens: 5000,
  /** Nesting of selection sets, fragments expanded (GraphiQL's introspection query is 15 deep). */
  depth: 15,
  /** Aliased fields in one document. */
  aliases: 30,
  /**
   * Field selections once fragments are expanded (a proxy for the work a document asks for; graphql-js's
   * overlap check is quadratic in same-named fields, ~0.1 s at this size). The introspection query has 256.
   */
  fields: 300,
  /** Fragment definitions in one document (the overlap check is quadratic in them too). */
  fragments: 50,
  /** Directives in one document. */
  directives: 50,
  /** Operations in one HTTP request: batching is not supported. */
  batch: 1,
} as const;

/** WebSockets (graphql-ws). */
export const SOCKET_LIMITS = {
  /** One incoming frame; larger ones close the socket with 1009. */
  frameBytes: 1024 * 1024,
  /** Running operations (tails) on one socket; more are refused with `too_many_requests`. */
  operationsPerSocket: 100,
  /** Open sockets per credential; more are closed with 4430. */
  socketsPerCredential: 1000,
  /**
   * Bytes a socket may hold unsent before a tail waits for its client to read: below this a tail's next message
   * is prepared while the last one is still on its way (no round trip per message); memory stays bounded per socket.
   */
  sendAheadBytes: 256 * 1024,
} as const;

/** Failed authentications per client address before it gets 429 (a sliding window). */
export const AUTH_FAILURE_LIMITS = {
  failures: 20,
  windowMs: 10_000,
  /** Addresses tracked at once (oldest dropped first), so the table itself is bounded. */
  trackedAddresses: 10_000,
} as const;
