import type { ServerErrorCode } from "@starcite/sdk";

/**
 * The error contract. Every failure the SQL layer knows about is raised with a fixed SQLSTATE in class
 * "SC", a message starting with the code name, and a JSON object in DETAIL; the GraphQL layer puts the code
 * into `extensions.code`, a REST surface answers with the code's HTTP status. The codes, SQLSTATEs and
 * statuses are defined once, in SQL (`starcite.error_codes()`): test/sql/facts.test.ts checks this table, the
 * SDK's code list and the README's against it. `sqlstate: null` marks codes raised by the server, not SQL.
 */
export const ERROR_CODES = {
  internal_error: { sqlstate: "SC000", httpStatus: 500 },
  invalid_argument: { sqlstate: "SC001", httpStatus: 400 },
  invalid_event: { sqlstate: "SC002", httpStatus: 400 },
  payload_too_large: { sqlstate: "SC003", httpStatus: 413 },
  session_not_found: { sqlstate: "SC100", httpStatus: 404 },
  session_exists: { sqlstate: "SC101", httpStatus: 409 },
  version_conflict: { sqlstate: "SC102", httpStatus: 409 },
  expected_seq_conflict: { sqlstate: "SC200", httpStatus: 409 },
  producer_seq_conflict: { sqlstate: "SC201", httpStatus: 409 },
  producer_replay_conflict: { sqlstate: "SC202", httpStatus: 409 },
  idempotency_conflict: { sqlstate: "SC203", httpStatus: 409 },
  unauthorized: { sqlstate: "SC300", httpStatus: 401 },
  forbidden_scope: { sqlstate: "SC301", httpStatus: 403 },
  token_expired: { sqlstate: "SC302", httpStatus: 401 },
  forbidden_actor: { sqlstate: "SC303", httpStatus: 403 },
  key_not_found: { sqlstate: "SC304", httpStatus: 404 },
  database_unavailable: { sqlstate: null, httpStatus: 503 },
  bad_request: { sqlstate: null, httpStatus: 400 },
  shutting_down: { sqlstate: null, httpStatus: 503 },
} as const satisfies Record<ServerErrorCode, { sqlstate: `SC${string}` | null; httpStatus: number }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes raised outside SQL (transport, auth, availability). */
export type ServiceCode = { [C in ErrorCode]: (typeof ERROR_CODES)[C]["sqlstate"] extends null ? C : never }[ErrorCode];

/** The code each SQLSTATE of class SC stands for. */
export const SQLSTATE_TO_CODE: Readonly<Record<string, ErrorCode>> = Object.fromEntries(
  Object.entries(ERROR_CODES).flatMap(([code, { sqlstate }]) => (sqlstate ? [[sqlstate, code as ErrorCode]] : [])),
);

/** The HTTP status a REST surface answers a code with. */
export const httpStatus = (code: ErrorCode): number => ERROR_CODES[code].httpStatus;

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

/**
 * JSON that jsonb cannot hold fails while Postgres decodes the parameter, before any function runs: \u0000
 * (22P05), invalid UTF-8 (22021), and a lone UTF-16 surrogate such as "\ud800" (22P02, "invalid input syntax
 * for type json" with a Unicode detail). Only the client can have put it there.
 */
function isUnstorableText(e: PgErrorLike): boolean {
  if (e.code === "22P05" || e.code === "22021") return true;
  return e.code === "22P02" && typeof e.message === "string" && e.message.includes("type json")
    && typeof e.detail === "string" && /unicode/i.test(e.detail);
}

export const unstorableText = (): StarciteError =>
  new StarciteError("invalid_event", "the event contains text Postgres cannot store (\\u0000, a lone UTF-16 surrogate, invalid UTF-8)");

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
  const code = SQLSTATE_TO_CODE[e.code];
  if (code) {
    const message = typeof e.message === "string" ? e.message.replace(/^[a-z_]+: /, "") : code;
    return new StarciteError(code, message, parseDetail(e.detail));
  }
  if (isUnstorableText(e)) return unstorableText();
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
