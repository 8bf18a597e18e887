import type { ErrorCode } from "../db/errors.ts";
import { DEFAULT_MAX_QUEUED_APPENDS } from "../write/batcher.ts";
import { HTTP_LIMITS } from "../shared/limits.ts";
import { DEFAULT_TOKEN_TTL_SECONDS, MAX_TOKEN_TTL_SECONDS } from "../app/tokens.ts";
import { HTTP_STATUS } from "./errors.ts";
import type { JsonSchema, OpenApiDocument, Operation, Parameter, ResponseObject } from "./openapi-types.ts";
import { commonErrors } from "./router.ts";
import { DEFAULT_HEARTBEAT_MS, MAX_BATCH_SIZE } from "./streams.ts";

/**
 * The REST API as OpenAPI 3.1, served at /v1/openapi.json. Written by hand (it is documentation); a test
 * checks that its paths, methods, statuses and error codes are exactly the router's.
 */

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonSchema, example?: unknown) => ({ "application/json": example === undefined ? { schema } : { schema, example } });
const nullable = (type: "string" | "integer" | "object", description?: string): JsonSchema => ({
  type: [type, "null"],
  ...(description ? { description } : {}),
});

const DESCRIPTIONS: Record<number, string> = {
  400: "Invalid input.",
  401: "Missing, unknown, revoked or expired credential.",
  403: "The credential lacks a scope, or may not act as the given actor.",
  404: "No such session for this credential (another tenant's session looks the same).",
  409: "A conflict with the session's state; `detail` says which value was expected.",
  413: `Too large: a request body over ${HTTP_LIMITS.bodyBytes} bytes, or an event over its documented limits.`,
  429: "Back off and retry.",
  500: "A bug: the server logged it.",
  503: "The database is unreachable, or the server is shutting down: retry (elsewhere).",
};

/** Error responses for these codes, grouped by their HTTP status. */
function errors(kind: { auth: boolean; body: boolean }, ...own: ErrorCode[]): Record<string, ResponseObject> {
  const byStatus = new Map<number, string[]>();
  for (const code of [...own, ...commonErrors(kind)]) {
    const status = HTTP_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<string, ResponseObject> = {};
  for (const [status, codes] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    out[String(status)] = { description: DESCRIPTIONS[status] ?? "Error.", "x-error-codes": codes, content: json(ref("Error")) };
  }
  return out;
}

const authed = { auth: true, body: false };
const authedBody = { auth: true, body: true };

const sessionId: Parameter = {
  name: "id",
  in: "path",
  required: true,
  description: "Session id.",
  schema: { type: "string", pattern: "^[A-Za-z0-9_.:-]{1,128}$" },
};

const appendErrors: ErrorCode[] = [
  "invalid_event",
  "invalid_argument",
  "forbidden_scope",
  "forbidden_actor",
  "session_not_found",
  "expected_seq_conflict",
  "producer_seq_conflict",
  "producer_replay_conflict",
  "idempotency_conflict",
];

function mintOperation(operationId: string, summary: string): Operation {
  return {
    operationId,
    summary,
    tags: ["tokens"],
    description:
      "Mints a session token (a signed JWT) for a browser or agent, pinned to one session and one principal; its appends get " +
      '`actor = "<type>:<id>"`. Only API keys may mint, and only scopes they hold.',
    requestBody: {
      required: true,
      content: json(ref("SessionTokenRequest"), {
        session_id: "ses_demo",
        principal: { type: "agent", id: "drafter" },
        scopes: ["session:read"],
        ttl_seconds: 3600,
      }),
    },
    responses: {
      "201": { description: "The token.", content: json(ref("SessionToken")) },
      ...errors(authedBody, "invalid_argument", "forbidden_scope", "session_not_found"),
    },
  };
}

const eventProperties: Record<string, JsonSchema> = {
  type: { type: "string", description: "Event type (default `content`).", default: "content" },
  payload: { type: "object", description: "A JSON object, at most 262,144 bytes." },
  actor: { type: "string", description: "Who wrote it, e.g. `agent:drafter`. Session tokens always append as their own principal." },
  source: { type: "string" },
  metadata: { type: "object", description: "At most 16,384 bytes." },
  refs: { description: "Any JSON, at most 16,384 bytes." },
  idempotency_key: { type: "string", description: "Same key and content again returns the original event." },
  producer_id: { type: "string", description: "With `producer_seq`: retries of the same producer_seq are deduped." },
  producer_seq: { type: "integer", minimum: 1, description: "The producer's previous producer_seq + 1." },
  expected_seq: { type: "integer", minimum: 0, description: "Append only if the session's last_seq equals it." },
};

export const openApiDocument: OpenApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "starcite REST API",
    version: "1",
    description:
      "Thin REST adapters over the same operations as the GraphQL API at /graphql (the primary API): same SQL functions, same auth, " +
      "same live fan-out. Field names follow the open-source Starcite REST API (snake_case). Errors are " +
      '`{"error": "<code>", "message": "..."}`. See docs/rest.md for curl examples and the tail protocols.',
    license: { name: "Apache-2.0", identifier: "Apache-2.0" },
  },
  servers: [{ url: "http://localhost:4000", description: "npm start" }],
  tags: [{ name: "sessions" }, { name: "events" }, { name: "tokens" }, { name: "meta" }],
  security: [{ bearer: [] }],
  paths: {
    "/v1/sessions": {
      post: {
        operationId: "createSession",
        summary: "Create a session",
        tags: ["sessions"],
        description: "Without `id`, one is generated (`ses_...`). A taken id is `session_exists`. Needs `session:create` (API keys only).",
        requestBody: { content: json(ref("CreateSession"), { id: "ses_demo", title: "Draft contract" }) },
        responses: {
          "201": { description: "The new session.", content: json(ref("Session")) },
          ...errors(authedBody, "invalid_argument", "forbidden_scope", "session_exists"),
        },
      },
      get: {
        operationId: "listSessions",
        summary: "List sessions",
        tags: ["sessions"],
        description: "Ordered by id. Page with `cursor` = the previous page's `next_cursor`. A session token lists only its own session.",
        parameters: [
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 } },
          { name: "cursor", in: "query", description: "The last id of the previous page.", schema: { type: "string" } },
          { name: "archived", in: "query", schema: { type: "boolean", default: false } },
        ],
        responses: {
          "200": { description: "A page of sessions.", content: json(ref("SessionPage")) },
          ...errors(authed, "invalid_argument", "forbidden_scope"),
        },
      },
    },
    "/v1/sessions/{id}": {
      parameters: [sessionId],
      get: {
        operationId: "getSession",
        summary: "Get a session",
        tags: ["sessions"],
        responses: {
          "200": { description: "The session.", content: json(ref("Session")) },
          ...errors(authed, "forbidden_scope", "session_not_found"),
        },
      },
      patch: {
        operationId: "updateSession",
        summary: "Update a session's title and/or metadata",
        tags: ["sessions"],
        description:
          "Omitted fields stay as they are; `metadata` is replaced whole. With `expected_version`, fails with `version_conflict` unless it matches.",
        requestBody: { required: true, content: json(ref("UpdateSession"), { title: "Draft contract v2", expected_version: 1 }) },
        responses: {
          "200": { description: "The updated session.", content: json(ref("Session")) },
          ...errors(authedBody, "invalid_argument", "forbidden_scope", "session_not_found", "version_conflict"),
        },
      },
    },
    "/v1/sessions/{id}/archive": {
      parameters: [sessionId],
      post: {
        operationId: "archiveSession",
        summary: "Archive a session",
        tags: ["sessions"],
        description: "Archived sessions are listed only with `archived=true`; their log stays readable and appendable.",
        requestBody: { content: json(ref("ArchiveSession")) },
        responses: {
          "200": { description: "The session.", content: json(ref("Session")) },
          ...errors(authedBody, "invalid_argument", "forbidden_scope", "session_not_found", "version_conflict"),
        },
      },
    },
    "/v1/sessions/{id}/unarchive": {
      parameters: [sessionId],
      post: {
        operationId: "unarchiveSession",
        summary: "Unarchive a session",
        tags: ["sessions"],
        requestBody: { content: json(ref("ArchiveSession")) },
        responses: {
          "200": { description: "The session.", content: json(ref("Session")) },
          ...errors(authedBody, "invalid_argument", "forbidden_scope", "session_not_found", "version_conflict"),
        },
      },
    },
    "/v1/sessions/{id}/append": {
      parameters: [sessionId],
      post: {
        operationId: "append",
        summary: "Append one event",
        tags: ["events"],
        description:
          "Group-committed with concurrent appends; each gets its own result or error. A retry of an event already in the log " +
          "(same producer_id/producer_seq or idempotency_key, same content) returns the original seq with `deduped: true`. " +
          `More than ${DEFAULT_MAX_QUEUED_APPENDS} appends waiting on the server: \`overloaded\` (429).`,
        requestBody: {
          required: true,
          content: json(ref("AppendInput"), {
            type: "content",
            payload: { text: "Found 8 relevant cases..." },
            producer_id: "curl-demo",
            producer_seq: 1,
          }),
        },
        responses: {
          "201": { description: "Appended (or deduped).", content: json(ref("AppendResult")) },
          ...errors(authedBody, ...appendErrors, "overloaded"),
        },
      },
    },
    "/v1/sessions/{id}/append_batch": {
      parameters: [sessionId],
      post: {
        operationId: "appendBatch",
        summary: "Append events atomically",
        tags: ["events"],
        description: "All events in order in one transaction, or (on the first error, which is returned) none. At most 1000 events.",
        requestBody: { required: true, content: json(ref("AppendBatchInput")) },
        responses: {
          "201": { description: "One result per event, in order.", content: json(ref("AppendBatchResult")) },
          ...errors(authedBody, ...appendErrors),
        },
      },
    },
    "/v1/sessions/{id}/events": {
      parameters: [sessionId],
      get: {
        operationId: "listEvents",
        summary: "Read events after a cursor",
        tags: ["events"],
        parameters: [
          { name: "cursor", in: "query", description: "Events with seq > cursor.", schema: { type: "integer", minimum: 0, default: 0 } },
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 } },
        ],
        responses: {
          "200": { description: "A page of events.", content: json(ref("EventPage")) },
          ...errors(authed, "invalid_argument", "forbidden_scope", "session_not_found", "cursor_expired"),
        },
      },
    },
    "/v1/sessions/{id}/tail": {
      parameters: [sessionId],
      get: {
        operationId: "tail",
        summary: "Tail: replay after a cursor, then follow live (plain WebSocket or SSE)",
        tags: ["events"],
        description:
          "As a WebSocket (no subprotocol): one text frame per event (a JSON array of up to `batch_size` events with `batch_size`), " +
          'in seq order, then `{"control":"caught_up","cursor":N}` at the catch-up point, then live events. Errors close the socket ' +
          "with 4000 + the HTTP status of the error (4400, 4401, 4403, 4404, 4410, 4429), 1001 on shutdown, 1013 when the database is unreachable, " +
          "1011 on a server bug, with the reason `<code>: <message>`. Pings every " +
          `${DEFAULT_HEARTBEAT_MS / 1000} s.\n\n` +
          "With `Accept: text/event-stream`: Server-Sent Events with `id:` = seq (`Last-Event-ID` resumes), `event: caught_up`, " +
          "`event: tail_error` before the server ends the stream on an error, and `: keep-alive` comments.",
        security: [{ bearer: [] }, { accessToken: [] }],
        parameters: [
          {
            name: "cursor",
            in: "query",
            description: "Deliver events with seq > cursor.",
            schema: { type: "integer", minimum: 0, default: 0 },
          },
          {
            name: "batch_size",
            in: "query",
            description: "Send JSON arrays of up to this many events per frame.",
            schema: { type: "integer", minimum: 1, maximum: MAX_BATCH_SIZE },
          },
          {
            name: "access_token",
            in: "query",
            description: "The credential, for clients that cannot set headers.",
            schema: { type: "string" },
          },
          {
            name: "Last-Event-ID",
            in: "header",
            description: "SSE: resume after this seq (wins over `cursor`).",
            schema: { type: "string" },
          },
        ],
        responses: {
          "101": { description: "Switching to the plain WebSocket tail." },
          "200": { description: "The SSE tail.", content: { "text/event-stream": { schema: { type: "string" } } } },
          ...errors(authed, "bad_request", "invalid_argument", "forbidden_scope", "session_not_found", "cursor_expired"),
        },
      },
    },
    "/v1/session-changes": {
      get: {
        operationId: "listSessionChanges",
        summary: "Read the tenant's session changes after a cursor (the lifecycle feed)",
        tags: ["sessions"],
        description:
          "Session created / updated / archived / unarchived / deleted, in commit order with a gapless per-tenant `seq`: " +
          "keep `next_cursor` and pass it back as `cursor` to get everything since, also after a restart. Backends only (not session tokens).",
        parameters: [
          { name: "cursor", in: "query", description: "Changes with seq > cursor.", schema: { type: "integer", minimum: 0, default: 0 } },
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 } },
        ],
        responses: {
          "200": { description: "A page of session changes.", content: json(ref("SessionChangePage")) },
          ...errors(authed, "invalid_argument", "forbidden_scope", "cursor_expired"),
        },
      },
    },
    "/v1/session-tokens": { post: mintOperation("createSessionToken", "Mint a session token") },
    "/api/v1/session-tokens": { post: mintOperation("createSessionTokenHosted", "Mint a session token (the hosted issuer's path)") },
    "/v1/openapi.json": {
      get: {
        operationId: "openapi",
        summary: "This document",
        tags: ["meta"],
        security: [],
        responses: { "200": { description: "OpenAPI 3.1.", content: json({ type: "object" }) }, ...errors({ auth: false, body: false }) },
      },
    },
  },
  components: {
    securitySchemes: {
      bearer: { type: "http", scheme: "bearer", description: "An API key (`sk_...`) or a session token." },
      accessToken: { type: "apiKey", in: "query", name: "access_token", description: "The credential as a query parameter (tails only)." },
    },
    schemas: {
      Error: {
        type: "object",
        required: ["error", "message"],
        properties: {
          error: { type: "string", enum: Object.keys(HTTP_STATUS).sort() },
          message: { type: "string" },
          detail: { type: "object", description: "Code-specific fields, e.g. `expected_producer_seq`, `field`, `last_seq`." },
        },
      },
      Session: {
        type: "object",
        required: ["id", "title", "metadata", "last_seq", "archived", "version", "created_at", "updated_at"],
        properties: {
          id: { type: "string" },
          title: nullable("string"),
          metadata: { type: "object" },
          last_seq: { type: "integer", description: "Seq of the newest event (0 when empty)." },
          archived: { type: "boolean" },
          version: { type: "integer", description: "Bumped by every update." },
          created_at: { type: "string", format: "date-time" },
          updated_at: { type: "string", format: "date-time" },
        },
      },
      SessionChange: {
        type: "object",
        required: ["seq", "session_id", "kind", "version", "archived", "changed_at"],
        properties: {
          seq: { type: "integer", minimum: 1, description: "1, 2, 3, ... per tenant, without gaps, in commit order." },
          session_id: { type: "string" },
          kind: { type: "string", enum: ["created", "updated", "archived", "unarchived", "deleted"] },
          version: { type: "integer" },
          archived: { type: "boolean" },
          changed_at: { type: "string", format: "date-time" },
        },
      },
      SessionChangePage: {
        type: "object",
        required: ["changes", "next_cursor", "last_seq"],
        properties: {
          changes: { type: "array", items: ref("SessionChange") },
          next_cursor: { type: "integer" },
          last_seq: { type: "integer" },
        },
      },
      SessionPage: {
        type: "object",
        required: ["sessions", "next_cursor"],
        properties: { sessions: { type: "array", items: ref("Session") }, next_cursor: nullable("string", "Null on the last page.") },
      },
      CreateSession: {
        type: "object",
        additionalProperties: false,
        properties: {
          id: { type: "string", pattern: "^[A-Za-z0-9_.:-]{1,128}$" },
          title: { type: "string" },
          metadata: { type: "object", description: "At most 65,536 bytes." },
        },
      },
      UpdateSession: {
        type: "object",
        additionalProperties: false,
        properties: { title: { type: "string" }, metadata: { type: "object" }, expected_version: { type: "integer" } },
      },
      ArchiveSession: { type: "object", additionalProperties: false, properties: { expected_version: { type: "integer" } } },
      Event: {
        type: "object",
        required: [
          "session_id",
          "seq",
          "type",
          "payload",
          "actor",
          "source",
          "metadata",
          "refs",
          "idempotency_key",
          "producer_id",
          "producer_seq",
          "inserted_at",
        ],
        properties: {
          session_id: { type: "string" },
          seq: { type: "integer", minimum: 1, description: "1, 2, 3, ... without gaps, in commit order." },
          type: { type: "string" },
          payload: { type: "object" },
          actor: nullable("string"),
          source: nullable("string"),
          metadata: nullable("object"),
          refs: {},
          idempotency_key: nullable("string"),
          producer_id: nullable("string"),
          producer_seq: nullable("integer"),
          inserted_at: { type: "string", format: "date-time", description: "UTC, microseconds." },
        },
      },
      EventPage: {
        type: "object",
        required: ["events", "next_cursor", "last_seq"],
        properties: {
          events: { type: "array", items: ref("Event") },
          next_cursor: { type: "integer", description: "Pass as `cursor` for the next page." },
          last_seq: { type: "integer" },
        },
      },
      AppendInput: { type: "object", required: ["payload"], additionalProperties: false, properties: eventProperties },
      AppendBatchInput: {
        type: "object",
        required: ["events"],
        additionalProperties: false,
        properties: { events: { type: "array", minItems: 1, maxItems: 1000, items: ref("AppendInput") } },
      },
      AppendResult: {
        type: "object",
        required: ["seq", "last_seq", "deduped"],
        properties: {
          seq: { type: "integer" },
          last_seq: { type: "integer", description: "The session's last seq right after this append." },
          deduped: { type: "boolean", description: "True when this was a retry of an event already in the log." },
        },
      },
      AppendBatchResult: {
        type: "object",
        required: ["results", "last_seq"],
        properties: { results: { type: "array", items: ref("AppendResult") }, last_seq: { type: "integer" } },
      },
      SessionTokenRequest: {
        type: "object",
        required: ["session_id", "principal"],
        additionalProperties: false,
        properties: {
          session_id: { type: "string" },
          principal: {
            type: "object",
            required: ["type", "id"],
            additionalProperties: false,
            properties: {
              type: { type: "string", enum: ["user", "agent"] },
              id: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_.@:-]{0,127}$" },
            },
          },
          scopes: {
            type: "array",
            items: { type: "string", enum: ["session:read", "session:append"] },
            default: ["session:read", "session:append"],
          },
          ttl_seconds: { type: "integer", minimum: 1, maximum: MAX_TOKEN_TTL_SECONDS, default: DEFAULT_TOKEN_TTL_SECONDS },
        },
      },
      SessionToken: {
        type: "object",
        required: ["token", "expires_in", "expires_at"],
        properties: {
          token: { type: "string" },
          expires_in: { type: "integer", description: "Seconds." },
          expires_at: { type: "string", format: "date-time" },
        },
      },
      TailCaughtUp: {
        type: "object",
        required: ["control", "cursor"],
        properties: { control: { const: "caught_up" }, cursor: { type: "integer", description: "Every later frame is live." } },
      },
    },
  },
};
