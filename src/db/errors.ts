/**
 * The error contract. Every failure the SQL layer knows about is raised with a fixed SQLSTATE in class
 * "SC", a message starting with the code name, and a JSON object in DETAIL. This module is the one place
 * that maps SQLSTATEs to code names; the GraphQL layer puts `code` into `extensions.code`.
 */
export const SQLSTATE_TO_CODE = {
  SC000: "internal_error",
  SC001: "invalid_argument",
  SC002: "invalid_event",
  SC003: "payload_too_large",
  SC100: "session_not_found",
  SC101: "session_exists",
  SC102: "version_conflict",
  SC200: "expected_seq_conflict",
  SC201: "producer_seq_conflict",
  SC202: "producer_replay_conflict",
  SC203: "idempotency_conflict",
  SC300: "unauthorized",
  SC301: "forbidden_scope",
  SC302: "token_expired",
  SC303: "forbidden_actor",
  SC304: "key_not_found",
} as const;

type SqlCode = (typeof SQLSTATE_TO_CODE)[keyof typeof SQLSTATE_TO_CODE];

/** Codes raised outside SQL (transport, auth, availability). */
export type ServiceCode =
  | "database_unavailable" | "bad_request" | "shutting_down" | "not_found" | "unsupported_media_type" | "too_many_requests";

export type ErrorCode = SqlCode | ServiceCode;

export class StarciteError extends Error {
  override readonly name = "StarciteError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

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

/** Connection-level failures that mean "the database is not reachable right now". */
const UNAVAILABLE = new Set([
  "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "CONNECTION_CLOSED", "CONNECTION_ENDED",
  "CONNECTION_DESTROYED", "CONNECT_TIMEOUT", "57P01", "57P02", "57P03", "08000", "08003", "08006",
]);

/** Turns a postgres.js error into a StarciteError when it is one of ours; anything else is returned as is. */
export function toStarciteError(error: unknown): unknown {
  if (error instanceof StarciteError) return error;
  const e = error as PgErrorLike | null;
  if (!e || typeof e !== "object" || typeof e.code !== "string") return error;
  const code = (SQLSTATE_TO_CODE as Record<string, SqlCode | undefined>)[e.code];
  if (code) {
    const message = typeof e.message === "string" ? e.message.replace(/^[a-z_]+: /, "") : code;
    return new StarciteError(code, message, parseDetail(e.detail));
  }
  // JSON that jsonb cannot hold (\u0000, invalid UTF-8) fails while Postgres decodes the parameter.
  if (e.code === "22P05" || e.code === "22021") {
    return new StarciteError("invalid_event", "the event contains a character Postgres cannot store (such as \\u0000)", {});
  }
  if (UNAVAILABLE.has(e.code)) {
    return new StarciteError("database_unavailable", "the database is not reachable", {});
  }
  return error;
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
