/**
 * Errors the SDK raises. Server errors keep the server's `extensions.code` (e.g. `session_not_found`,
 * `forbidden_scope`, `producer_replay_conflict`); transport failures get `network_error` or `timeout`.
 */

/**
 * Every code the server documents. The list is defined once, in SQL (`starcite.error_codes()`); a test checks
 * that this one names exactly the same codes.
 */
export const SERVER_ERROR_CODES = [
  "internal_error",
  "invalid_argument",
  "invalid_event",
  "payload_too_large",
  "session_not_found",
  "session_exists",
  "version_conflict",
  "session_closed",
  "expected_seq_conflict",
  "producer_seq_conflict",
  "producer_replay_conflict",
  "idempotency_conflict",
  "unauthorized",
  "forbidden_scope",
  "token_expired",
  "forbidden_actor",
  "key_not_found",
  "stream_conflict",
  "content_type_mismatch",
  "stream_seq_conflict",
  "producer_epoch_stale",
  "stream_gone",
  "subscription_not_found",
  "subscription_conflict",
  "subscription_fenced",
  "subscription_claimed",
  "subscription_no_work",
  "webhook_url_rejected",
  "webhook_not_found",
  "cursor_expired",
  "database_unavailable",
  "bad_request",
  "shutting_down",
  "overloaded",
  "route_not_found",
  "method_not_allowed",
  "unsupported_media_type",
  "too_many_requests",
] as const;

export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number];

/** The server's codes, the SDK's own transport codes, and the chat envelopes' (`@starcite/sdk/ai`). Any other string may appear too. */
export type StarciteErrorCode =
  ServerErrorCode | "network_error" | "timeout" | "unavailable" | "closed" | "protocol_error" | "invalid_chat_event";

/** Failures worth retrying: the request may not have reached the log, and a retry cannot hurt an idempotent append. */
const RETRYABLE = new Set<string>([
  "network_error",
  "timeout",
  "unavailable",
  "database_unavailable",
  "shutting_down",
  "overloaded",
  "too_many_requests",
]);

export const isRetryableCode = (code: string): boolean => RETRYABLE.has(code);

export interface StarciteErrorOptions {
  /** HTTP status, when the error came from an HTTP response. */
  status?: number;
  cause?: unknown;
}

/**
 * The one error class of starcite, server and clients alike: the server raises it (src/db/errors.ts narrows
 * its codes to the server's), and the SDK turns every server error, socket close and transport failure into it.
 */
export class StarciteError extends Error {
  override readonly name = "StarciteError";
  readonly code: StarciteErrorCode | (string & {});
  /** The rest of the server's `extensions` / REST body (e.g. `expectedProducerSeq`, `field`). */
  readonly detail: Record<string, unknown>;
  readonly status: number | undefined;

  constructor(
    code: StarciteErrorCode | (string & {}),
    message: string,
    detail: Record<string, unknown> = {},
    options: StarciteErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = detail;
    this.status = options.status;
  }

  /** True for transport failures and transient server states; false for everything the caller must fix. */
  get retryable(): boolean {
    return isRetryableCode(this.code);
  }

  /** "<code>: <message>", the one-line form the CLI prints. */
  override toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

export const isStarciteError = (error: unknown): error is StarciteError =>
  error instanceof StarciteError ||
  (error instanceof Error && error.name === "StarciteError" && typeof (error as { code?: unknown }).code === "string");

/** Wraps anything thrown by fetch or a socket as a StarciteError. */
export function toStarciteError(error: unknown, fallbackCode: StarciteErrorCode = "network_error"): StarciteError {
  if (isStarciteError(error)) return error;
  if (error instanceof Error) {
    if (error.name === "TimeoutError" || error.name === "AbortError") {
      return new StarciteError("timeout", "the request timed out", {}, { cause: error });
    }
    // fetch reports "fetch failed" with the real reason (ECONNREFUSED, a reset socket, ...) in `cause`.
    const cause = (error as { cause?: { message?: unknown; code?: unknown } }).cause;
    const reason =
      cause && typeof cause.message === "string" && cause.message
        ? cause.message
        : cause && typeof cause.code === "string"
          ? cause.code
          : error.message;
    return new StarciteError(fallbackCode, reason, {}, { cause: error });
  }
  return new StarciteError(fallbackCode, String(error));
}
