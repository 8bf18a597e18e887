import { StarciteError, type ErrorCode } from "../db/errors.ts";
import type { EventInput, JsonObject, JsonValue } from "../db/types.ts";
import { ARGUMENT_CHARS, EVENT_LIMITS, KEY_LIMITS, SESSION_LIMITS } from "../shared/limits.ts";

/**
 * Field names in errors are the SQL layer's (snake_case), so `extensions.field` is the same whichever layer refused.
 *
 * The checks every surface (GraphQL, REST, ...) runs on what it is about to write, before Postgres sees it:
 * strings Postgres cannot take (NUL) or that are not Unicode (lone surrogates: a text parameter would store
 * U+FFFD while the same string inside JSON is refused, so one input got two answers), JSON nesting, sizes and
 * lengths. Codes and limits are the SQL layer's (see src/shared/limits.ts), so whichever path an input takes
 * it gets one answer. Functions throw StarciteError and return the input normalised.
 */

/** A NUL or any surrogate code unit: the only places textProblem has anything to look at. */
const SUSPECT = /[\u0000\ud800-\udfff]/;

/** Why a string cannot be stored, or null. */
export function textProblem(value: string): "nul" | "surrogate" | null {
  // The native scan first: almost every string has neither, and then there is no need to walk it by hand.
  if (!SUSPECT.test(value)) return null;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0) return "nul";
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < value.length ? value.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
      else return "surrogate";
    }
  }
  return null;
}

/** Code points, as Postgres's char_length counts them. */
export function charLength(value: string): number {
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

const describe = (problem: "nul" | "surrogate") =>
  problem === "nul" ? "contains \\u0000, which Postgres cannot store" : "contains a lone UTF-16 surrogate (not valid Unicode)";

function fail(code: ErrorCode, field: string, message: string, extra: Record<string, unknown> = {}): never {
  throw new StarciteError(code, `${field} ${message}`, { field, ...extra });
}

/** A string field: storable, and at most `maxChars` code points. */
export function checkText(value: string, field: string, code: ErrorCode, maxChars = ARGUMENT_CHARS): string {
  const problem = textProblem(value);
  if (problem) fail(code, field, describe(problem));
  if (value.length > maxChars && charLength(value) > maxChars)
    fail(code, field, `is longer than ${maxChars} characters`, { limit: maxChars });
  return value;
}

/** An optional string argument (null/undefined pass). */
export function checkOptionalText(
  value: string | null | undefined,
  field: string,
  code: ErrorCode,
  maxChars = ARGUMENT_CHARS,
): string | null {
  return value == null ? null : checkText(value, field, code, maxChars);
}

/**
 * Walks a JSON value without recursion (so no depth can overflow the stack): every key and string storable,
 * nesting at most `maxDepth`. Returns the UTF-8 size of its JSON text, or throws.
 */
export function checkJson(value: unknown, field: string, code: ErrorCode, maxDepth: number = EVENT_LIMITS.jsonDepth): number {
  // Two parallel stacks (values, depths) rather than a pair per value: this runs for every appended event.
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const v = values.pop();
    const depth = depths.pop()!;
    if (typeof v === "string") {
      const problem = textProblem(v);
      if (problem) fail(code, field, `has a string that ${describe(problem)}`);
    } else if (typeof v === "number") {
      if (!Number.isFinite(v)) fail(code, field, "has a number JSON cannot represent");
    } else if (v !== null && typeof v === "object") {
      if (depth + 1 > maxDepth) fail(code, field, `is nested deeper than ${maxDepth} levels`, { limit: maxDepth });
      if (Array.isArray(v)) {
        for (const item of v) {
          values.push(item);
          depths.push(depth + 1);
        }
      } else {
        const object = v as Record<string, unknown>;
        for (const key of Object.keys(object)) {
          const problem = textProblem(key);
          if (problem) fail(code, field, `has a key that ${describe(problem)}`);
          values.push(object[key]);
          depths.push(depth + 1);
        }
      }
    } else if (v !== null && typeof v !== "boolean") {
      fail(code, field, "is not JSON");
    }
  }
  return Buffer.byteLength(JSON.stringify(value));
}

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === "object" && !Array.isArray(v);

function checkSize(bytes: number, field: string, limit: number): void {
  // Postgres measures jsonb's own rendering, which is never shorter than JSON.stringify's, so this refuses
  // nothing SQL would accept; whatever passes here and not there gets the same code from SQL.
  if (bytes > limit) {
    throw new StarciteError("payload_too_large", `${field} is ${bytes} bytes, the limit is ${limit}`, { field, limit, size: bytes });
  }
}

function checkSeq(value: number | null | undefined, field: string, min: number): number | null {
  if (value == null) return null;
  if (!Number.isSafeInteger(value) || value < min) fail("invalid_event", field, `must be an integer >= ${min}`);
  return value;
}

/** One event as any surface takes it: checked and normalised (`type` defaults to "content"). */
export function validateEvent(input: EventInput): EventInput {
  const L = EVENT_LIMITS;
  const type = input.type ?? "content";
  if (typeof type !== "string" || type === "") fail("invalid_event", "type", "must be a non-empty string");
  checkText(type, "type", "invalid_event", L.typeChars);
  if (!isObject(input.payload)) fail("invalid_event", "payload", "must be a JSON object");
  checkSize(checkJson(input.payload, "payload", "invalid_event"), "payload", L.payloadBytes);
  if (input.metadata != null) {
    if (!isObject(input.metadata)) fail("invalid_event", "metadata", "must be a JSON object");
    checkSize(checkJson(input.metadata, "metadata", "invalid_event"), "metadata", L.metadataBytes);
  }
  if (input.refs != null) {
    if (typeof input.refs !== "object") fail("invalid_event", "refs", "must be a JSON object or array");
    checkSize(checkJson(input.refs, "refs", "invalid_event"), "refs", L.refsBytes);
  }
  checkOptionalText(input.actor, "actor", "invalid_event", L.textChars);
  checkOptionalText(input.source, "source", "invalid_event", L.textChars);
  for (const [field, value] of [
    ["idempotency_key", input.idempotencyKey],
    ["producer_id", input.producerId],
  ] as const) {
    if (value == null) continue;
    if (value === "") fail("invalid_event", field, "must not be empty");
    checkText(value, field, "invalid_event", L.textChars);
  }
  const producerSeq = checkSeq(input.producerSeq, "producer_seq", 1);
  const expectedSeq = checkSeq(input.expectedSeq, "expected_seq", 0);
  if ((input.producerId == null) !== (producerSeq == null)) {
    throw new StarciteError("invalid_event", "producer_id and producer_seq must be given together", {
      field: input.producerId == null ? "producer_id" : "producer_seq",
    });
  }
  return {
    type,
    payload: input.payload,
    actor: input.actor ?? null,
    source: input.source ?? null,
    metadata: input.metadata ?? null,
    refs: (input.refs ?? null) as JsonValue | null,
    idempotencyKey: input.idempotencyKey ?? null,
    producerId: input.producerId ?? null,
    producerSeq,
    expectedSeq,
  };
}

/** The events of one batch call. */
export function validateEvents(events: readonly EventInput[]): EventInput[] {
  if (events.length > EVENT_LIMITS.batchEvents) {
    throw new StarciteError("invalid_argument", `at most ${EVENT_LIMITS.batchEvents} events per call, got ${events.length}`, {
      field: "events",
      max: EVENT_LIMITS.batchEvents,
      count: events.length,
    });
  }
  return events.map((e, i) => {
    try {
      return validateEvent(e);
    } catch (error) {
      if (error instanceof StarciteError) {
        throw new StarciteError(error.code, `event ${i}: ${error.message}`, { ...error.detail, index: i });
      }
      throw error;
    }
  });
}

/** A session id as SQL accepts it (1..128 of [A-Za-z0-9_.:-]). Other surfaces look ids up, where a bad one is simply missing. */
export function checkSessionId(id: string, field = "id"): string {
  if (!SESSION_LIMITS.idPattern.test(id)) {
    fail("invalid_argument", field, "must be 1-128 characters of [A-Za-z0-9_.:-], starting with a letter or digit");
  }
  return id;
}

/** A session id to look up: anything storable; an id that cannot exist is simply not found later. */
export const checkSessionRef = (id: string, field = "session_id"): string => checkText(id, field, "invalid_argument", ARGUMENT_CHARS);

/** createSession / updateSession fields. */
export function validateSessionFields(input: { title?: string | null; metadata?: JsonValue | null }): {
  title: string | null;
  metadata: JsonObject | null;
} {
  const title = checkOptionalText(input.title, "title", "invalid_argument", SESSION_LIMITS.titleChars);
  let metadata: JsonObject | null = null;
  if (input.metadata != null) {
    if (!isObject(input.metadata)) fail("invalid_argument", "metadata", "must be a JSON object");
    checkSize(checkJson(input.metadata, "metadata", "invalid_argument"), "metadata", SESSION_LIMITS.metadataBytes);
    metadata = input.metadata;
  }
  return { title, metadata };
}

/** A page size (reads, listings): 1..1000. */
export function checkPageLimit(limit: number, field = "limit"): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > SESSION_LIMITS.pageMax) {
    throw new StarciteError("invalid_argument", `${field} must be between 1 and ${SESSION_LIMITS.pageMax}`, {
      field,
      min: 1,
      max: SESSION_LIMITS.pageMax,
    });
  }
  return limit;
}

/** An API key's name. */
export const checkKeyName = (name: string): string => {
  if (name === "") fail("invalid_argument", "name", `must be 1-${KEY_LIMITS.nameChars} characters`);
  return checkText(name, "name", "invalid_argument", KEY_LIMITS.nameChars);
};
