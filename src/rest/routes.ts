import type { RestSessionPage, RestSessionToken } from "@starcite/sdk/protocol";
import * as changes from "../app/changes.ts";
import * as events from "../app/events.ts";
import * as sessions from "../app/sessions.ts";
import * as tokens from "../app/tokens.ts";
import { StarciteError } from "../db/errors.ts";
import { Fields, boolParam, intParam } from "./input.ts";
import { openApiDocument } from "./openapi.ts";
import type { Reply, RestCall, Route } from "./router.ts";
import { serveSseTail } from "./sse-tail.ts";
import { appendResultJson, changeJson, eventJson, sessionJson } from "./wire.ts";

const APPEND_ERRORS = [
  "invalid_event",
  "invalid_argument",
  "forbidden_scope",
  "forbidden_actor",
  "session_not_found",
  "expected_seq_conflict",
  "producer_seq_conflict",
  "producer_replay_conflict",
  "idempotency_conflict",
] as const;

/** One event of an append body, from REST's snake_case to the operation's input. */
function appendInput(f: Fields): events.AppendInput {
  const input: events.AppendInput = {
    type: f.string("type"),
    payload: f.json("payload"),
    actor: f.string("actor"),
    source: f.string("source"),
    metadata: f.json("metadata"),
    refs: f.json("refs"),
    idempotencyKey: f.string("idempotency_key"),
    producerId: f.string("producer_id"),
    producerSeq: f.int("producer_seq"),
    expectedSeq: f.int("expected_seq"),
  };
  f.done();
  return input;
}

const ok = (body: unknown): Reply => ({ status: 200, body });
const created = (body: unknown): Reply => ({ status: 201, body });

async function setArchived(call: RestCall, archived: boolean): Promise<Reply> {
  const f = Fields.of(await call.body(), "invalid_argument", "", true);
  const expectedVersion = f.int("expected_version");
  f.done();
  return ok(sessionJson(await sessions.update(call.ctx, { id: call.params.id!, archived, expectedVersion })));
}

async function mintToken(call: RestCall): Promise<Reply> {
  const f = Fields.of(await call.body(), "invalid_argument");
  const sessionId = f.requiredString("session_id");
  const p = f.object("principal");
  const principal = { type: p.requiredString("type"), id: p.requiredString("id") };
  p.done();
  const scopes = f.stringList("scopes");
  const ttlSeconds = f.int("ttl_seconds");
  f.done();
  const minted = await tokens.mint(call.ctx, { sessionId, principal, scopes, ttlSeconds });
  const body: RestSessionToken = { token: minted.token, expires_in: minted.ttlSeconds, expires_at: minted.expiresAt.toISOString() };
  return created(body);
}

const MINT_ERRORS = ["invalid_argument", "forbidden_scope", "session_not_found"] as const;

/** Every REST route; the OpenAPI document must describe exactly these (a test checks). */
export const ROUTES: readonly Route[] = [
  {
    id: "createSession",
    method: "POST",
    path: "/v1/sessions",
    success: [201],
    errors: ["invalid_argument", "forbidden_scope", "session_exists"],
    auth: true,
    body: true,
    async handle(call) {
      const f = Fields.of(await call.body(), "invalid_argument", "", true);
      const input = { id: f.string("id"), title: f.string("title"), metadata: f.json("metadata") };
      f.done();
      return created(sessionJson(await sessions.create(call.ctx, input)));
    },
  },
  {
    id: "listSessions",
    method: "GET",
    path: "/v1/sessions",
    success: [200],
    errors: ["invalid_argument", "forbidden_scope"],
    auth: true,
    body: false,
    async handle(call) {
      const limit = intParam(call.query, "limit") ?? 100;
      const list = await sessions.list(call.ctx, {
        limit,
        after: call.query.get("cursor") || null,
        archived: boolParam(call.query, "archived") ?? false,
      });
      const body: RestSessionPage = { sessions: list.map(sessionJson), next_cursor: list.length === limit ? list.at(-1)!.id : null };
      return ok(body);
    },
  },
  {
    id: "getSession",
    method: "GET",
    path: "/v1/sessions/{id}",
    success: [200],
    errors: ["forbidden_scope", "session_not_found"],
    auth: true,
    body: false,
    async handle(call) {
      const session = await sessions.get(call.ctx, call.params.id!);
      if (!session) throw sessions.notFound(call.params.id!);
      return ok(sessionJson(session));
    },
  },
  {
    id: "updateSession",
    method: "PATCH",
    path: "/v1/sessions/{id}",
    success: [200],
    errors: ["invalid_argument", "forbidden_scope", "session_not_found", "version_conflict"],
    auth: true,
    body: true,
    async handle(call) {
      const f = Fields.of(await call.body(), "invalid_argument");
      const input = {
        id: call.params.id!,
        title: f.string("title"),
        metadata: f.json("metadata"),
        expectedVersion: f.int("expected_version"),
      };
      f.done();
      return ok(sessionJson(await sessions.update(call.ctx, input)));
    },
  },
  {
    id: "archiveSession",
    method: "POST",
    path: "/v1/sessions/{id}/archive",
    success: [200],
    errors: ["invalid_argument", "forbidden_scope", "session_not_found", "version_conflict"],
    auth: true,
    body: true,
    handle: (call) => setArchived(call, true),
  },
  {
    id: "unarchiveSession",
    method: "POST",
    path: "/v1/sessions/{id}/unarchive",
    success: [200],
    errors: ["invalid_argument", "forbidden_scope", "session_not_found", "version_conflict"],
    auth: true,
    body: true,
    handle: (call) => setArchived(call, false),
  },
  {
    id: "append",
    method: "POST",
    path: "/v1/sessions/{id}/append",
    success: [201],
    errors: [...APPEND_ERRORS, "overloaded"],
    auth: true,
    body: true,
    async handle(call) {
      const input = appendInput(Fields.of(await call.body(), "invalid_event"));
      return created(appendResultJson(await events.append(call.ctx, call.params.id!, input)));
    },
  },
  {
    id: "appendBatch",
    method: "POST",
    path: "/v1/sessions/{id}/append_batch",
    success: [201],
    errors: APPEND_ERRORS,
    auth: true,
    body: true,
    async handle(call) {
      const f = Fields.of(await call.body(), "invalid_argument");
      const items = f.array("events");
      f.done();
      const inputs = items.map((item, i) => appendInput(Fields.of(item, "invalid_event", `events[${i}].`)));
      const results = await events.appendBatch(call.ctx, call.params.id!, inputs);
      return created({ results: results.map(appendResultJson), last_seq: Math.max(0, ...results.map((r) => r.lastSeq)) });
    },
  },
  {
    id: "listEvents",
    method: "GET",
    path: "/v1/sessions/{id}/events",
    success: [200],
    errors: ["invalid_argument", "forbidden_scope", "session_not_found", "cursor_expired"],
    auth: true,
    body: false,
    async handle(call) {
      const page = await events.page(call.ctx, call.params.id!, intParam(call.query, "cursor") ?? 0, intParam(call.query, "limit") ?? 100);
      return ok({ events: page.events.map(eventJson), next_cursor: page.nextCursor, last_seq: page.lastSeq });
    },
  },
  {
    id: "tail",
    method: "GET",
    path: "/v1/sessions/{id}/tail",
    success: [101, 200],
    errors: ["bad_request", "invalid_argument", "forbidden_scope", "session_not_found", "cursor_expired"],
    auth: true,
    credentialInQuery: true,
    body: false,
    async handle(call) {
      if (!(call.req.headers.accept ?? "").includes("text/event-stream")) {
        throw new StarciteError(
          "bad_request",
          "the tail is a WebSocket (send an Upgrade request, e.g. websocat) or an SSE stream (send Accept: text/event-stream)",
        );
      }
      await serveSseTail(call.ctx, call.req, call.res, call.params.id!, call.query, call.deps);
    },
  },
  {
    id: "listSessionChanges",
    method: "GET",
    path: "/v1/session-changes",
    success: [200],
    errors: ["invalid_argument", "forbidden_scope", "cursor_expired"],
    auth: true,
    body: false,
    async handle(call) {
      const page = await changes.page(call.ctx, intParam(call.query, "cursor") ?? 0, intParam(call.query, "limit") ?? 100);
      return ok({ changes: page.changes.map(changeJson), next_cursor: page.nextCursor, last_seq: page.lastSeq });
    },
  },
  {
    id: "createSessionToken",
    method: "POST",
    path: "/v1/session-tokens",
    success: [201],
    errors: MINT_ERRORS,
    auth: true,
    body: true,
    handle: mintToken,
  },
  {
    id: "createSessionTokenHosted",
    method: "POST",
    path: "/api/v1/session-tokens",
    success: [201],
    errors: MINT_ERRORS,
    auth: true,
    body: true,
    handle: mintToken,
  },
  {
    id: "openapi",
    method: "GET",
    path: "/v1/openapi.json",
    success: [200],
    errors: [],
    auth: false,
    body: false,
    handle: async () => ok(openApiDocument),
  },
];
