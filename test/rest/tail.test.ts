/**
 * The plain-WebSocket and SSE tails: replay then live with a catch-up marker, resume by cursor and by
 * Last-Event-ID, batch_size arrays, every error as a documented close code or status, heartbeats, and
 * a reader that stops reading holds about one page in server memory.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { TailCloseCode } from "@starcite/sdk/protocol";
import { appendBulk, BULK_FILLER_BYTES } from "../helpers/events.ts";
import { startTestServer, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";
import { apiKey, bearer, expiredToken } from "../auth/helpers.ts";
import { sid } from "../sql/_support.ts";
import { call, recordingLogger, sseTail, wsTail } from "./support.ts";

let s: TestServer;
let key: string;
const log = recordingLogger();

beforeAll(async () => {
  s = await startTestServer({ auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET }, logger: log.logger, rest: { heartbeatMs: 100 } });
  key = await apiKey(s.db.sql, "default");
});
afterAll(async () => {
  await s?.close();
});

const api = (method: string, path: string, body?: unknown, headers = bearer(key)) => call(s.url, method, path, body, headers);
const ws = (path: string, headers: Record<string, string> = bearer(key), options = {}) =>
  wsTail(`${s.url.replace(/^http/, "ws")}${path}`, headers, options);
const sse = (path: string, headers: Record<string, string> = bearer(key)) => sseTail(`${s.url}${path}`, headers);

async function session(events = 0): Promise<string> {
  const id = sid("tail");
  expect((await api("POST", "/v1/sessions", { id })).status).toBe(201);
  if (events > 0) {
    const res = await api("POST", `/v1/sessions/${id}/append_batch`, {
      events: Array.from({ length: events }, (_, i) => ({ payload: { i: i + 1 } })),
    });
    expect(res.status).toBe(201);
  }
  return id;
}

const append = async (id: string, i: number) =>
  expect((await api("POST", `/v1/sessions/${id}/append`, { payload: { i } })).status).toBe(201);

async function token(sessionId: string, scopes: string[], ttl = 3600): Promise<string> {
  const res = await api("POST", "/v1/session-tokens", {
    session_id: sessionId,
    principal: { type: "user", id: "alice" },
    scopes,
    ttl_seconds: ttl,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.token as string;
}

describe("plain WebSocket tail", () => {
  test("replays in seq order, sends the caught_up control frame, then follows live; no subprotocol", async () => {
    const id = await session(3);
    const t = ws(`/v1/sessions/${id}/tail?cursor=0`);
    await t.until(() => t.caughtUp);
    expect(t.ws.protocol).toBe("");
    expect(t.frames).toEqual([
      expect.objectContaining({ seq: 1, session_id: id, payload: { i: 1 }, type: "content" }),
      expect.objectContaining({ seq: 2 }),
      expect.objectContaining({ seq: 3 }),
      { control: "caught_up", cursor: 3 },
    ]);
    await append(id, 4);
    await append(id, 5);
    await t.until(() => t.events.length === 5);
    expect(t.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(t.frames).toHaveLength(6);
    t.ws.close(1000);
    expect((await t.untilClosed()).code).toBe(1000);
  });

  test("reconnecting with the last cursor replays exactly the missing events", async () => {
    const id = await session(2);
    const first = ws(`/v1/sessions/${id}/tail?cursor=0`);
    await first.until(() => first.caughtUp);
    await append(id, 3);
    await first.until(() => first.events.length === 3);
    first.close();
    await first.untilClosed();
    const cursor = first.events.at(-1)!.seq;
    for (let i = 4; i <= 6; i++) await append(id, i);
    const second = ws(`/v1/sessions/${id}/tail?cursor=${cursor}`);
    await second.until(() => second.caughtUp);
    expect(second.events.map((e) => e.seq)).toEqual([4, 5, 6]);
    await append(id, 7);
    await second.until(() => second.events.length === 4);
    expect([...first.events, ...second.events].map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    second.close();
  });

  test("batch_size sends arrays of up to that many events", async () => {
    const id = await session(5);
    const t = ws(`/v1/sessions/${id}/tail?cursor=0&batch_size=2`);
    await t.until(() => t.caughtUp);
    expect(t.frames.slice(0, 3).map((f) => (f as { seq: number }[]).map((e) => e.seq))).toEqual([[1, 2], [3, 4], [5]]);
    await append(id, 6);
    await t.until(() => t.events.length === 6);
    expect(t.frames.at(-1)).toEqual([expect.objectContaining({ seq: 6 })]);
    t.close();
  });

  test("the credential in ?access_token= works for browsers; a read-only session token tails", async () => {
    const id = await session(1);
    const tok = await token(id, ["session:read"]);
    const t = ws(`/v1/sessions/${id}/tail?access_token=${encodeURIComponent(tok)}`, {});
    await t.until(() => t.caughtUp);
    expect(t.events.map((e) => e.seq)).toEqual([1]);
    t.close();
  });

  test('errors close with the documented code and a "<code>: <message>" reason', async () => {
    const id = await session(2);
    const cases: [string, Record<string, string>, number, string][] = [
      [`/v1/sessions/${id}/tail`, {}, TailCloseCode.Unauthorized, "unauthorized"],
      [`/v1/sessions/${id}/tail`, bearer("sk_not_a_real_key_00000000000000000000"), TailCloseCode.Unauthorized, "unauthorized"],
      [`/v1/sessions/${id}/tail`, bearer(await expiredToken(id)), TailCloseCode.Unauthorized, "token_expired"],
      [`/v1/sessions/${id}/tail`, bearer(await token(id, ["session:append"])), TailCloseCode.Forbidden, "forbidden_scope"],
      [`/v1/sessions/${id}/tail`, bearer(await apiKey(s.db.sql, "acme")), TailCloseCode.NotFound, "session_not_found"],
      ["/v1/sessions/ses_missing_x/tail", bearer(key), TailCloseCode.NotFound, "session_not_found"],
      [`/v1/sessions/${id}/tail?cursor=3`, bearer(key), TailCloseCode.BadRequest, "invalid_argument"],
      [`/v1/sessions/${id}/tail?cursor=-1`, bearer(key), TailCloseCode.BadRequest, "invalid_argument"],
      [`/v1/sessions/${id}/tail?cursor=x`, bearer(key), TailCloseCode.BadRequest, "invalid_argument"],
      [`/v1/sessions/${id}/tail?batch_size=0`, bearer(key), TailCloseCode.BadRequest, "invalid_argument"],
    ];
    for (const [path, headers, code, error] of cases) {
      const t = ws(path, headers);
      const closed = await t.untilClosed();
      expect(closed.code, `${path} ${error}`).toBe(code);
      expect(closed.reason).toMatch(new RegExp(`^${error}: .+`));
      expect(closed.reason).not.toContain("sk_");
      expect(t.frames).toEqual([]);
    }
    // Another path than a tail is refused before upgrading, with a JSON 404.
    const other = ws("/v1/sessions", bearer(key));
    expect((await other.untilClosed()).code).toBe(-404);
  });

  test("a token expiring mid-tail closes with 4401 token_expired after delivering everything up to then", async () => {
    const id = await session(1);
    // JWT expiry is in whole seconds: a 3 s token lives 2-3 s, long enough to catch up first on a busy machine.
    const tok = await token(id, ["session:read"], 3);
    const t = ws(`/v1/sessions/${id}/tail`, bearer(tok));
    await t.until(() => t.caughtUp);
    const closed = await t.untilClosed(8_000);
    expect(closed.code).toBe(TailCloseCode.Unauthorized);
    expect(closed.reason).toMatch(/^token_expired: /);
    expect(t.events.map((e) => e.seq)).toEqual([1]);
  });

  test("heartbeats: pings keep it open; a peer that never answers them is cut", async () => {
    const id = await session(0);
    const alive = ws(`/v1/sessions/${id}/tail`);
    await alive.until(() => alive.pings >= 5, 5_000);
    expect(alive.closed).toBeNull();
    const deaf = ws(`/v1/sessions/${id}/tail`, bearer(key), { autoPong: false });
    const closed = await deaf.untilClosed(5_000);
    expect(closed.code).toBe(1006);
    expect(deaf.pings).toBeGreaterThanOrEqual(3);
    expect(alive.closed).toBeNull();
    alive.close();
  });
});

describe("SSE tail", () => {
  test("id: seq, caught_up event, live events; Last-Event-ID resumes exactly after it", async () => {
    const id = await session(3);
    const t = sse(`/v1/sessions/${id}/tail?cursor=1`);
    await t.until(() => t.messages.some((m) => m.event === "caught_up"));
    expect(t.status).toBe(200);
    expect(t.contentType).toMatch(/^text\/event-stream/);
    expect(t.messages.map((m) => [m.event, m.id])).toEqual([
      ["message", "2"],
      ["message", "3"],
      ["caught_up", undefined],
    ]);
    expect(JSON.parse(t.messages[2]!.data)).toEqual({ control: "caught_up", cursor: 3 });
    await append(id, 4);
    await t.until(() => t.events.length === 3);
    expect(t.events.map((e) => e.seq)).toEqual([2, 3, 4]);
    t.close();

    // EventSource reconnects with its original URL plus Last-Event-ID: the header wins.
    await append(id, 5);
    const resumed = sse(`/v1/sessions/${id}/tail?cursor=1`, { ...bearer(key), "last-event-id": "4" });
    await resumed.until(() => resumed.messages.some((m) => m.event === "caught_up"));
    expect(resumed.events.map((e) => e.seq)).toEqual([5]);
    resumed.close();
  });

  test("access_token for EventSource; errors before the stream are JSON statuses; a plain GET is told what to do", async () => {
    const id = await session(1);
    const tok = await token(id, ["session:read"]);
    const ok = sse(`/v1/sessions/${id}/tail?access_token=${encodeURIComponent(tok)}`, {});
    await ok.until(() => ok.events.length === 1);
    ok.close();
    for (const [path, headers, status, code] of [
      [`/v1/sessions/${id}/tail`, {}, 401, "unauthorized"],
      ["/v1/sessions/ses_missing_y/tail", bearer(key), 404, "session_not_found"],
      [`/v1/sessions/${id}/tail?cursor=9`, bearer(key), 400, "invalid_argument"],
      [`/v1/sessions/${id}/tail`, { ...bearer(key), "last-event-id": "abc" }, 400, "invalid_argument"],
    ] as const) {
      const t = sse(path, headers);
      await t.until(() => t.ended);
      expect(t.status).toBe(status);
      expect(JSON.parse(t.errorBody)).toMatchObject({ error: code });
    }
    const plain = await api("GET", `/v1/sessions/${id}/tail`);
    expect(plain.status).toBe(400);
    expect(plain.body).toMatchObject({ error: "bad_request", message: expect.stringContaining("text/event-stream") });
  });

  test("keep-alive comments; a token expiring mid-stream ends it after a tail_error event", async () => {
    const id = await session(1);
    const t = sse(`/v1/sessions/${id}/tail`, bearer(await token(id, ["session:read"], 3)));
    await t.until(() => t.comments.filter((c) => c === "keep-alive").length >= 2, 5_000);
    await t.until(() => t.ended, 8_000);
    const last = t.messages.at(-1)!;
    expect(last.event).toBe("tail_error");
    expect(JSON.parse(last.data)).toMatchObject({ error: "token_expired" });
    expect(t.events.map((e) => e.seq)).toEqual([1]);
  });
});

test("readers that stop reading hold about one page each in server memory and lose nothing", async () => {
  // A paused reader answers no pings: on its own server with the default heartbeat, it is not cut meanwhile.
  const quiet = await startTestServer({ auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET } }, s.db);
  const id = await session(0);
  const wsUrl = `${quiet.url.replace(/^http/, "ws")}/v1/sessions/${id}/tail`;
  const slowWs = wsTail(wsUrl, bearer(key));
  const slowSse = sseTail(`${quiet.url}/v1/sessions/${id}/tail`, bearer(key));
  const fast = wsTail(wsUrl, bearer(key));
  await slowWs.until(() => slowWs.caughtUp);
  await slowSse.until(() => slowSse.messages.some((m) => m.event === "caught_up"));
  await fast.until(() => fast.caughtUp);
  const wsSocket = (slowWs.ws as unknown as { _socket: import("node:net").Socket })._socket;
  wsSocket.pause();
  // The SSE reader's socket: the one http.get opened (the only agent-less request in flight).
  const sseSockets = (await import("node:http")).globalAgent.sockets;
  const sseSocket = Object.values(sseSockets).flat()[0]!;
  sseSocket.pause();

  const total = 5000;
  await appendBulk(s.db.sql, id, total);
  await fast.until(() => fast.events.length === total, 60_000);
  const pageBytes = 1000 * (BULK_FILLER_BYTES + 400);
  const buffered = quiet.server.wsBufferedBytes();
  expect(buffered).toHaveLength(3);
  expect(Math.max(...buffered)).toBeLessThan(2 * pageBytes);
  expect(slowWs.events.length).toBeLessThan(total);
  expect(slowSse.events.length).toBeLessThan(total);

  wsSocket.resume();
  sseSocket.resume();
  await slowWs.until(() => slowWs.events.length === total, 60_000);
  await slowSse.until(() => slowSse.events.length === total, 60_000);
  for (const r of [slowWs, slowSse, fast]) expect(r.events.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, k) => k + 1));
  slowWs.close();
  slowSse.close();
  fast.close();
  await quiet.close();
});

test("no route answered with an error code it does not declare", () => {
  expect(log.undeclared()).toEqual([]);
});
