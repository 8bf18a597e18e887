/**
 * The REST surface against a real server: every route's happy path in the open-source Starcite's
 * snake_case shapes, and every error as `{ error, message }` with its documented status.
 */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { HTTP_STATUS } from "../../src/rest/errors.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { sid } from "../sql/_support.ts";
import { call, recordingLogger } from "./support.ts";

let s: TestServer;
const log = recordingLogger();

beforeAll(async () => {
  s = await startTestServer({ logger: log.logger });
});
afterAll(async () => {
  await s?.close();
});

const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => call(s.url, method, path, body, headers);

/** An error response: the status the code maps to, and the documented body. */
function expectError(res: { status: number; body: any }, code: string, status?: number) {
  expect(res.body, JSON.stringify(res.body)).toMatchObject({ error: code, message: expect.any(String) });
  expect(res.status).toBe(status ?? HTTP_STATUS[code as keyof typeof HTTP_STATUS]);
}

describe("sessions", () => {
  test("create → 201 with the session; get, list with paging, patch with expected_version, archive and unarchive", async () => {
    const id = sid("rest");
    const created = await api("POST", "/v1/sessions", { id, title: "Draft contract", metadata: { matter: "acme" } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id,
      title: "Draft contract",
      metadata: { matter: "acme" },
      last_seq: 0,
      archived: false,
      version: 1,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
      updated_at: expect.any(String),
    });
    expect(created.headers.get("content-type")).toMatch(/^application\/json/);

    const generated = await api("POST", "/v1/sessions");
    expect(generated.status).toBe(201);
    expect(generated.body.id).toMatch(/^ses_/);

    expect((await api("GET", `/v1/sessions/${id}`)).body).toEqual(created.body);

    const patched = await api("PATCH", `/v1/sessions/${id}`, { title: "Draft contract v2", expected_version: 1 });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id, title: "Draft contract v2", metadata: { matter: "acme" }, version: 2 });
    expectError(await api("PATCH", `/v1/sessions/${id}`, { title: "stale", expected_version: 1 }), "version_conflict", 409);

    const archived = await api("POST", `/v1/sessions/${id}/archive`);
    expect(archived.status).toBe(200);
    expect(archived.body.archived).toBe(true);
    const listedArchived = await api("GET", "/v1/sessions?archived=true&limit=1000");
    expect(listedArchived.body.sessions.map((x: { id: string }) => x.id)).toContain(id);
    expect((await api("GET", "/v1/sessions?limit=1000")).body.sessions.map((x: { id: string }) => x.id)).not.toContain(id);
    const unarchived = await api("POST", `/v1/sessions/${id}/unarchive`, { expected_version: archived.body.version });
    expect(unarchived.body).toMatchObject({ archived: false, version: archived.body.version + 1 });
  });

  test("list pages with cursor / next_cursor until null", async () => {
    const prefix = sid("page");
    for (let i = 0; i < 5; i++) expect((await api("POST", "/v1/sessions", { id: `${prefix}_${i}` })).status).toBe(201);
    const seen: string[] = [];
    let cursor: string | null = `${prefix}`;
    for (let pages = 0; cursor !== null && pages < 10; pages++) {
      const res: { body: { sessions: { id: string }[]; next_cursor: string | null } } = await api(
        "GET",
        `/v1/sessions?limit=2&cursor=${encodeURIComponent(cursor)}`,
      );
      seen.push(...res.body.sessions.map((x) => x.id).filter((x) => x.startsWith(prefix)));
      cursor = res.body.sessions.some((x) => !x.id.startsWith(prefix)) ? null : res.body.next_cursor;
    }
    expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => `${prefix}_${i}`));
  });

  test("errors: 409 session_exists, 404 session_not_found, 400 for bad input", async () => {
    const id = sid("dup");
    await api("POST", "/v1/sessions", { id });
    expectError(await api("POST", "/v1/sessions", { id }), "session_exists", 409);
    expectError(await api("GET", "/v1/sessions/ses_nope_nope"), "session_not_found", 404);
    expectError(await api("PATCH", "/v1/sessions/ses_nope_nope", { title: "x" }), "session_not_found", 404);
    expectError(await api("POST", "/v1/sessions/ses_nope_nope/archive"), "session_not_found", 404);
    expectError(await api("POST", "/v1/sessions", { id: "bad id!" }), "invalid_argument", 400);
    expectError(await api("POST", "/v1/sessions", { metadata: [1, 2] }), "invalid_argument", 400);
    expectError(await api("POST", "/v1/sessions", { title: 42 }), "invalid_argument", 400);
    expectError(await api("GET", "/v1/sessions?limit=abc"), "invalid_argument", 400);
    expectError(await api("GET", "/v1/sessions?limit=0"), "invalid_argument", 400);
    expectError(await api("GET", "/v1/sessions?archived=maybe"), "invalid_argument", 400);
    expectError(await api("POST", "/v1/sessions", "{not json"), "bad_request", 400);
    expectError(await api("POST", "/v1/sessions", "[1]"), "bad_request", 400);
    expectError(await api("POST", "/v1/sessions", { titel: "typo" }), "invalid_argument", 400);
    const big = await api("POST", "/v1/sessions", { metadata: { blob: "x".repeat(70_000) } });
    expectError(big, "payload_too_large", 413);
  });
});

describe("events", () => {
  test("append → 201 { seq, last_seq, deduped }; a retried producer_seq dedupes to the original seq", async () => {
    const id = sid("app");
    await api("POST", "/v1/sessions", { id });
    const event = { type: "content", payload: { text: "Found 8 relevant cases..." }, producer_id: "curl-demo", producer_seq: 1 };
    const first = await api("POST", `/v1/sessions/${id}/append`, event);
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ seq: 1, last_seq: 1, deduped: false });
    const retry = await api("POST", `/v1/sessions/${id}/append`, event);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual({ seq: 1, last_seq: 1, deduped: true });

    const second = await api("POST", `/v1/sessions/${id}/append`, {
      type: "tool_call",
      payload: { tool: "search" },
      actor: "agent:drafter",
      source: "agent",
      metadata: { k: 1 },
      refs: { parent: 1 },
      idempotency_key: "k-1",
      producer_id: "curl-demo",
      producer_seq: 2,
      expected_seq: 1,
    });
    expect(second.body).toEqual({ seq: 2, last_seq: 2, deduped: false });
    // type defaults to content, as on GraphQL and SQL.
    expect((await api("POST", `/v1/sessions/${id}/append`, { payload: { n: 3 } })).body.seq).toBe(3);

    const page = await api("GET", `/v1/sessions/${id}/events?cursor=0&limit=2`);
    expect(page.status).toBe(200);
    expect(page.body.next_cursor).toBe(2);
    expect(page.body.last_seq).toBe(3);
    expect(page.body.events[1]).toEqual({
      session_id: id,
      seq: 2,
      type: "tool_call",
      payload: { tool: "search" },
      actor: "agent:drafter",
      source: "agent",
      metadata: { k: 1 },
      refs: { parent: 1 },
      idempotency_key: "k-1",
      producer_id: "curl-demo",
      producer_seq: 2,
      inserted_at: expect.stringMatching(/Z$/),
    });
    const rest = await api("GET", `/v1/sessions/${id}/events?cursor=2`);
    expect(rest.body.events.map((e: { seq: number }) => e.seq)).toEqual([3]);
    const empty = await api("GET", `/v1/sessions/${id}/events?cursor=3`);
    expect(empty.body).toEqual({ events: [], next_cursor: 3, last_seq: 3 });
  });

  test("append conflicts are 409 with the detail; bad events are 400 invalid_event; 404 for a missing session", async () => {
    const id = sid("conf");
    await api("POST", "/v1/sessions", { id });
    await api("POST", `/v1/sessions/${id}/append`, { payload: { a: 1 }, producer_id: "p", producer_seq: 1 });
    const skipped = await api("POST", `/v1/sessions/${id}/append`, { payload: { a: 3 }, producer_id: "p", producer_seq: 3 });
    expectError(skipped, "producer_seq_conflict", 409);
    expect(skipped.body.detail).toMatchObject({ expected_producer_seq: 2 });
    expectError(
      await api("POST", `/v1/sessions/${id}/append`, { payload: { a: 2 }, producer_id: "p", producer_seq: 1 }),
      "producer_replay_conflict",
      409,
    );
    expectError(await api("POST", `/v1/sessions/${id}/append`, { payload: { a: 1 }, expected_seq: 7 }), "expected_seq_conflict", 409);
    await api("POST", `/v1/sessions/${id}/append`, { payload: { a: 1 }, idempotency_key: "k" });
    expectError(await api("POST", `/v1/sessions/${id}/append`, { payload: { a: 2 }, idempotency_key: "k" }), "idempotency_conflict", 409);

    expectError(await api("POST", `/v1/sessions/${id}/append`, { payload: "text" }), "invalid_event", 400);
    expectError(await api("POST", `/v1/sessions/${id}/append`, { type: "x" }), "invalid_event", 400);
    expectError(await api("POST", `/v1/sessions/${id}/append`, { payload: {}, producer_seq: "1" }), "invalid_event", 400);
    expectError(await api("POST", `/v1/sessions/${id}/append`, { payload: {}, producer_id: "p2" }), "invalid_event", 400);
    expectError(await api("POST", `/v1/sessions/${id}/append`, { payload: {}, type: "" }), "invalid_event", 400);
    const camel = await api("POST", `/v1/sessions/${id}/append`, { payload: {}, producer_id: "p3", producerSeq: 1 });
    expectError(camel, "invalid_event", 400);
    expect(camel.body.message).toContain("did you mean producer_seq?");
    expectError(await api("POST", `/v1/sessions/${id}/append`, { payload: { big: "x".repeat(262_145) } }), "payload_too_large", 413);
    expectError(await api("POST", "/v1/sessions/ses_nope_nope/append", { payload: {} }), "session_not_found", 404);
    expectError(await api("GET", "/v1/sessions/ses_nope_nope/events"), "session_not_found", 404);
    expectError(await api("GET", `/v1/sessions/${id}/events?limit=5000`), "invalid_argument", 400);
    expectError(await api("GET", `/v1/sessions/${id}/events?cursor=-1`), "invalid_argument", 400);
    // Nothing but the accepted events was written.
    expect((await api("GET", `/v1/sessions/${id}`)).body.last_seq).toBe(2);
  });

  test("append_batch is atomic: all in order, or the first error and nothing", async () => {
    const id = sid("batch");
    await api("POST", "/v1/sessions", { id });
    const ok = await api("POST", `/v1/sessions/${id}/append_batch`, {
      events: [
        { type: "tool_call", payload: { q: 1 }, actor: "agent:drafter" },
        { type: "tool_result", payload: { hits: 8 } },
      ],
    });
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({
      results: [
        { seq: 1, last_seq: 1, deduped: false },
        { seq: 2, last_seq: 2, deduped: false },
      ],
      last_seq: 2,
    });
    const bad = await api("POST", `/v1/sessions/${id}/append_batch`, { events: [{ payload: { a: 1 } }, { payload: "nope" }] });
    expectError(bad, "invalid_event", 400);
    expect(bad.body.detail?.field ?? bad.body.message).toBeTruthy();
    expect((await api("GET", `/v1/sessions/${id}`)).body.last_seq).toBe(2);
    expectError(await api("POST", `/v1/sessions/${id}/append_batch`, { events: "x" }), "invalid_argument", 400);
    expectError(
      await api("POST", `/v1/sessions/${id}/append_batch`, { events: [{ payload: {} }], atomic: false }),
      "invalid_argument",
      400,
    );
  });
});

describe("routing and transport errors", () => {
  test("unknown routes answer a JSON 404 pointing at /graphql and the REST docs; wrong methods 405 with Allow", async () => {
    for (const path of ["/", "/v1/nope", "/v2/sessions", "/v1/sessions/x/y/z"]) {
      const res = await api("GET", path);
      expectError(res, "route_not_found", 404);
      expect(res.body.message).toContain("/graphql");
      expect(res.body.detail).toMatchObject({ graphql: "/graphql", openapi: "/v1/openapi.json" });
    }
    const wrong = await api("DELETE", "/v1/sessions");
    expectError(wrong, "method_not_allowed", 405);
    expect(wrong.headers.get("allow")).toBe("POST, GET");
    expectError(await api("GET", "/v1/sessions/x/append"), "method_not_allowed", 405);
    expectError(await api("GET", "/v1/sessions/%E0%A4%A"), "bad_request", 400);
    // GraphQL is untouched.
    expect((await s.gql("{ sessions(limit: 1) { id } }")).errors).toBeUndefined();
  });

  test("a body over the limit is a 413 response, even when only declared, and the connection is not reset", async () => {
    // Declared 10 GB, a few bytes sent: the answer comes at once.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(s.server.port, "127.0.0.1", () => {
        socket.write(
          `POST /v1/sessions/x/append HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 10737418240\r\n\r\n{"pay`,
        );
      });
      let data = "";
      socket.on("data", (c: Buffer) => {
        data += c.toString();
        if (/\r\n\r\n[\s\S]*\}$/.test(data)) {
          socket.destroy();
          resolve(data);
        }
      });
      socket.on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4))).toMatchObject({ error: "payload_too_large" });

    // A chunked body that grows past 32 MiB: fetch sends all of it and still reads the 413.
    const chunk = new Uint8Array(1024 * 1024).fill(32);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 40) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${s.url}/v1/sessions/x/append`, { method: "POST", body: stream, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: "payload_too_large" });
  });

  test("CORS: the default policy (any origin, no credentials) covers REST's preflight and responses", async () => {
    const origin = "http://app.example.test";
    const preflight = await fetch(`${s.url}/v1/sessions/x/append`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("last-event-id");
    const res = await api("GET", "/v1/sessions?limit=1", undefined, { origin });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-expose-headers")).toContain("retry-after");
  });

  test("no route answered with an error code it does not declare", () => {
    expect(log.undeclared()).toEqual([]);
  });
});
