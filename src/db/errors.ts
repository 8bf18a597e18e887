import { StarciteError as ErrorClass, type ServerErrorCode } from "@starcite/sdk/protocol";

/**
 * The error contract. Every failure the SQL layer knows about is raised with a fixed SQLSTATE in class
 * "SC", a message starting with the code name, and a JSON object in DETAIL; GraphQL puts the code into
 * `extensions.code`, REST and Durable Streams answer with the code's HTTP status (HTTP_STATUS below). Codes, SQLSTATEs and
 * statuses are defined once, in SQL (`starcite.error_codes()`); test/sql/facts.test.ts checks this map, the
 * HTTP statuses, the SDK's code list and the README against it. null: a code the server raises, not SQL.
 */
export const ERROR_SQLSTATES = {
  internal_error: "SC000",
  invalid_argument: "SC001",
  invalid_event: "SC002",
  payload_too_large: "SC003",
  session_not_found: "SC100",
  session_exists: "SC101",
  version_conflict: "SC102",
  session_closed: "SC103",
  expected_seq_conflict: "SC200",
  producer_seq_conflict: "SC201",
  producer_replay_conflict: "SC202",
  idempotency_conflict: "SC203",
  unauthorized: "SC300",
  forbidden_scope: "SC301",
  token_expired: "SC302",
  forbidden_actor: "SC303",
  key_not_found: "SC304",
  stream_conflict: "SC400",
  content_type_mismatch: "SC401",
  stream_seq_conflict: "SC402",
  producer_epoch_stale: "SC403",
  stream_gone: "SC404",
  subscription_not_found: "SC410",
  subscription_conflict: "SC411",
  subscription_fenced: "SC412",
  subscription_claimed: "SC413",
  subscription_no_work: "SC414",
  webhook_url_rejected: null,
  webhook_not_found: "SC305",
  cursor_expired: "SC105",
  database_unavailable: null,
  bad_request: null,
  shutting_down: null,
  overloaded: null,
  route_not_found: null,
  method_not_allowed: null,
  unsupported_media_type: null,
  too_many_requests: null,
} as const satisfies Record<ServerErrorCode, `SC${string}` | null>;

export type ErrorCode = keyof typeof ERROR_SQLSTATES;

/**
 * The HTTP status of every error code: the one table the HTTP surfaces (REST, the tails' close codes, Durable
 * Streams) derive from; test/sql/facts.test.ts checks it against `starcite.error_codes()`.
 * Exhaustive by type, so a new code cannot ship without its status.
 */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_argument: 400,
  invalid_event: 400,
  bad_request: 400,
  webhook_url_rejected: 400,
  unauthorized: 401,
  token_expired: 401,
  forbidden_scope: 403,
  forbidden_actor: 403,
  producer_epoch_stale: 403,
  session_not_found: 404,
  key_not_found: 404,
  webhook_not_found: 404,
  route_not_found: 404,
  subscription_not_found: 404,
  method_not_allowed: 405,
  session_exists: 409,
  version_conflict: 409,
  expected_seq_conflict: 409,
  producer_seq_conflict: 409,
  producer_replay_conflict: 409,
  idempotency_conflict: 409,
  session_closed: 409,
  stream_conflict: 409,
  content_type_mismatch: 409,
  stream_seq_conflict: 409,
  subscription_conflict: 409,
  subscription_fenced: 409,
  subscription_claimed: 409,
  subscription_no_work: 409,
  stream_gone: 410,
  cursor_expired: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  overloaded: 429,
  too_many_requests: 429,
  internal_error: 500,
  database_unavailable: 503,
  shutting_down: 503,
};

/** Codes raised outside SQL (transport, auth, availability, REST routing). */
export type ServiceCode = { [C in ErrorCode]: (typeof ERROR_SQLSTATES)[C] extends null ? C : never }[ErrorCode];

/** The code each SQLSTATE of class SC stands for. */
export const SQLSTATE_TO_CODE: Readonly<Record<string, ErrorCode>> = Object.fromEntries(
  Object.entries(ERROR_SQLSTATES).flatMap(([code, sqlstate]) => (sqlstate ? [[sqlstate, code as ErrorCode]] : [])),
);

/**
 * The server raises the SDK's error class (one class end to end, one shape on every side of the wire), typed
 * here so that server code can only name the server's codes.
 */
export interface StarciteError extends ErrorClass {
  readonly code: ErrorCode;
}
export const StarciteError = ErrorClass as {
  new (code: ErrorCode, message: string, detail?: Record<string, unknown>, options?: { cause?: unknown }): StarciteError;
  readonly prototype: StarciteError;
};

interface PgErrorLike {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
}

function parseDetail(raw: unknown): Record<string, unknown> {
  if (typeof raw !== "string" || raw === "") return {};
  try {
    const value: unknown = JSON.parse(raw);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * JSON that jsonb cannot hold fails while Postgres decodes the parameter, before any function runs: \u0000
 * (22P05), invalid UTF-8 (22021), and a lone UTF-16 surrogate such as "\ud800" (22P02, "invalid input syntax
 * for type json" with a Unicode detail). Only the client can have put it there.
 */
function isUnstorableText(e: PgErrorLike): boolean {
  if (e.code === "22P05" || e.code === "22021") return true;
  return (
    e.code === "22P02" &&
    typeof e.message === "string" &&
    e.message.includes("type json") &&
    typeof e.detail === "string" &&
    /unicode/i.test(e.detail)
  );
}

export const unstorableText = (): StarciteError =>
  new StarciteError("invalid_event", "the event contains text Postgres cannot store (\\u0000, a lone UTF-16 surrogate, invalid UTF-8)");

/** Connection-level failures that mean "the database is not reachable right now". */
const UNAVAILABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "57P01",
  "57P02",
  "57P03",
  "08000",
  "08003",
  "08006",
]);

/** Turns a postgres.js error into a StarciteError when it is one of ours; anything else is returned as is. */
export function toStarciteError(error: unknown): unknown {
  if (error instanceof StarciteError) return error;
  const e = error as PgErrorLike | null;
  if (!e || typeof e !== "object" || typeof e.code !== "string") return error;
  const code = SQLSTATE_TO_CODE[e.code];
  if (code) {
    const message = typeof e.message === "string" ? e.message.replace(/^[a-z_]+: /, "") : code;
    return new StarciteError(code, message, parseDetail(e.detail));
  }
  if (isUnstorableText(e)) return unstorableText();
  if (UNAVAILABLE.has(e.code)) {
    // The driver's code (ECONNREFUSED, 57P01, ...) stays on the error for logs, never in what a client sees.
    return new StarciteError("database_unavailable", "the database is not reachable", {}, { cause: e.code });
  }
  return error;
}

/**
 * Failures while opening a connection: the statement never reached a backend, so running it again cannot
 * apply it twice. (ECONNRESET or CONNECTION_CLOSED can come after the statement was sent, so they are not here.)
 */
const NEVER_SENT = new Set(["ECONNREFUSED", "CONNECT_TIMEOUT", "57P03", "ENOTFOUND", "EAI_AGAIN"]);

/** The driver's code behind a `database_unavailable` error (see toStarciteError), for logs. */
export function unavailableCause(error: unknown): string | undefined {
  return error instanceof StarciteError && error.code === "database_unavailable" && typeof error.cause === "string"
    ? error.cause
    : undefined;
}

/** Runs `fn` and rethrows known database errors as StarciteError. */
export async function mapErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toStarciteError(error);
  }
}

/**
 * For one statement that writes: like mapErrors, but a statement that never reached the database (its
 * connection could not be opened, e.g. the first write after Postgres came back met a pooled connection still
 * waiting out its reconnect) is tried twice more before `database_unavailable` is reported. A failure after
 * the statement was sent is never retried here: it may have committed.
 */
export async function mapWriteErrors<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const code = (error as PgErrorLike | null)?.code;
      if (attempt >= 2 || typeof code !== "string" || !NEVER_SENT.has(code)) throw toStarciteError(error);
      await new Promise((resolve) => setTimeout(resolve, 25 * (attempt + 1)));
    }
  }
}

/**
 * For reads only (safe to repeat): like mapErrors, but a connection that died under the query (a terminated
 * backend, a reset socket) is retried twice on a fresh one before `database_unavailable` is reported. A pool
 * whose connections were all killed at once (a failover, a pooler restart) then costs a read nothing.
 */
export async function mapReadErrors<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const mapped = toStarciteError(error);
      if (attempt >= 2 || !(mapped instanceof StarciteError) || mapped.code !== "database_unavailable") throw mapped;
      await new Promise((resolve) => setTimeout(resolve, 25 * (attempt + 1)));
    }
  }
}
