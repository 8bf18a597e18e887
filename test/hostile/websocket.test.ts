/**
 * Hostile WebSocket clients: protocol violations are 44xx closes (never 4500), frames, operations and sockets
 * are bounded, every operation error has a code, and a credential revoked or expired while its socket is
 * open stops working on that socket too.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { CloseCode } from "@starcite/sdk/protocol";
import { revokeApiKey, listApiKeys } from "../../src/db/keys.ts";
import { apiKey, bearer, expireKey } from "../auth/helpers.ts";
import { captureLogs } from "../helpers/logs.ts";
import { startTestServer, TAIL_QUERY, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";

const logs = captureLogs();
let s: TestServer;
const SESSION = "ses_ws_hostile";

beforeAll(async () => {
  s = await startTestServer({
    logger: logs.logger,
    auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET, keyCacheMs: 2000, failureLimit: { failures: 0, windowMs: 1 } },
    limits: { frameBytes: 64 * 1024, operationsPerSocket: 3, socketsPerCredential: 2 },
  });
  await s.db.sql`select * from starcite.create_session(${SESSION})`;
});
afterAll(async () => {
  await s?.close();
});

interface Message {
  id?: string;
  type: string;
  payload?: unknown;
}

/** A raw graphql-transport-ws socket: every message and the close, each awaitable. */
function rawSocket(credential?: string) {
  const ws = new WebSocket(s.wsUrl, "graphql-transport-ws");
  const messages: Message[] = [];
  let closed: { code: number; reason: string } | null = null;
  const watchers = new Set<() => void>();
  ws.on("message", (d) => {
    messages.push(JSON.parse(String(d)) as Message);
    watchers.forEach((w) => w());
  });
  ws.on("close", (code, reason) => {
    closed = { code, reason: String(reason) };
    watchers.forEach((w) => w());
  });
  ws.on("error", () => {});
  const until = <T>(pick: () => T | undefined, what: string, ms = 10_000): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const v = pick();
        if (v === undefined) return;
        watchers.delete(check);
        clearTimeout(t);
        resolve(v);
      };
      const t = setTimeout(() => {
        watchers.delete(check);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages)} closed=${JSON.stringify(closed)}`));
      }, ms);
      watchers.add(check);
      check();
    });
  const api = {
    ws,
    messages,
    send: (m: unknown) => ws.send(typeof m === "string" ? m : JSON.stringify(m)),
    opened: () => new Promise<void>((resolve) => (ws.readyState === ws.OPEN ? resolve() : ws.once("open", () => resolve()))),
    closed: () => until(() => closed ?? undefined, "close"),
    message: (pred: (m: Message) => boolean, what: string) => until(() => messages.find(pred), what),
    async init() {
      await api.opened();
      api.send({ type: "connection_init", payload: credential ? { authorization: `Bearer ${credential}` } : {} });
      await api.message((m) => m.type === "connection_ack", "ack");
    },
    subscribe: (id: string, query = TAIL_QUERY, variables: Record<string, unknown> = { sessionId: SESSION, cursor: 0 }) =>
      api.send({ id, type: "subscribe", payload: { query, variables } }),
    /** The code an operation failed with: an `error` message, or a `next` whose result has errors (subscribe-time refusals). */
    async codeFor(id: string): Promise<string> {
      const m = await api.message(
        (x) => x.id === id && (x.type === "error" || (x.type === "next" && !!(x.payload as { errors?: unknown })?.errors)),
        `failure of ${id}`,
      );
      const errors = (m.type === "error" ? m.payload : (m.payload as { errors: unknown }).errors) as { extensions: { code: string } }[];
      return errors[0]!.extensions.code;
    },
    errorFor: (id: string) =>
      api.message((m) => m.id === id && m.type === "error", `error for ${id}`) as Promise<{ payload: { extensions: { code: string } }[] }>,
  };
  return api;
}

describe("protocol violations", () => {
  test.each(["next", "connection_ack", "error", "nonsense"])("a client frame of type %s closes with 4400, not 4500", async (type) => {
    const key = await apiKey(s.db.sql, "default");
    const c = rawSocket(key);
    await c.init();
    c.send({ id: "1", type, payload: {} });
    expect((await c.closed()).code).toBe(CloseCode.BadRequest);
  });

  test("malformed JSON and a subscribe without a query close with 4400", async () => {
    const key = await apiKey(s.db.sql, "default");
    for (const frame of ["{not json", JSON.stringify({ id: "1", type: "subscribe", payload: { variables: {} } })]) {
      const c = rawSocket(key);
      await c.init();
      c.send(frame);
      expect((await c.closed()).code).toBe(CloseCode.BadRequest);
    }
  });

  test("a frame over the limit closes with 1009 (Message Too Big); ws never buffers 100 MiB", async () => {
    const key = await apiKey(s.db.sql, "default");
    const c = rawSocket(key);
    await c.init();
    c.send({ id: "1", type: "subscribe", payload: { query: `{ __typename } #${"x".repeat(100 * 1024)}` } });
    expect((await c.closed()).code).toBe(CloseCode.MessageTooBig);
  });
});

describe("operation errors", () => {
  test("every error message carries extensions.code", async () => {
    const key = await apiKey(s.db.sql, "default");
    const c = rawSocket(key);
    await c.init();
    const cases: [string, string, Record<string, unknown>][] = [
      ["syntax", "subscription {", {}],
      ["unknown field", "subscription { nope }", {}],
      [
        "two operations, no name",
        'subscription A { tail(sessionId: "x") { cursor } } subscription B { tail(sessionId: "y") { cursor } }',
        {},
      ],
      ["bad variable", TAIL_QUERY, { sessionId: SESSION, cursor: "zero" }],
      ["missing session", TAIL_QUERY, { sessionId: "ses_nope", cursor: 0 }],
      ["lone surrogate", TAIL_QUERY, { sessionId: "ses_\ud800", cursor: 0 }],
      ["query over ws", "query { viewer { id } ", {}],
    ];
    for (const [id, query, variables] of cases) c.subscribe(id, query, variables);
    for (const [id] of cases) {
      const error = await c.errorFor(id);
      expect(typeof error.payload[0]!.extensions.code, `${id}: ${JSON.stringify(error)}`).toBe("string");
      expect(error.payload[0]!.extensions.code).not.toBe("internal_error");
    }
  });

  test("operations per socket are bounded: the one over the limit gets too_many_requests, the others run", async () => {
    const key = await apiKey(s.db.sql, "default");
    const c = rawSocket(key);
    await c.init();
    for (const id of ["a", "b", "c", "d"]) c.subscribe(id);
    const error = await c.errorFor("d");
    expect(error.payload[0]!.extensions.code).toBe("too_many_requests");
    for (const id of ["a", "b", "c"]) await c.message((m) => m.id === id && m.type === "next", `next for ${id}`);
    c.send({ id: "a", type: "complete" });
    c.subscribe("e");
    await c.message((m) => m.id === "e" && m.type === "next", "e runs once a slot is free");
    c.ws.close();
  });

  test("sockets per credential are bounded: the one over the limit closes with 1013 (try again later)", async () => {
    const key = await apiKey(s.db.sql, "default");
    const a = rawSocket(key);
    const b = rawSocket(key);
    await a.init();
    await b.init();
    const c = rawSocket(key);
    await c.opened();
    c.send({ type: "connection_init", payload: { authorization: `Bearer ${key}` } });
    const closed = await c.closed();
    expect(closed.code).toBe(CloseCode.TryAgainLater);
    expect(closed.reason).toMatch(/^too_many_requests: /);
    a.ws.close();
    await a.closed();
    // A slot is free again (the server unregisters on close).
    const d = rawSocket(key);
    await d.init();
    d.ws.close();
    b.ws.close();
  });
});

describe("credentials that lapse while a socket is open", () => {
  test("a key revoked through the server: the running tail ends with unauthorized, new operations are refused", async () => {
    const key = await apiKey(s.db.sql, "default");
    const admin = await apiKey(s.db.sql, "default");
    const c = rawSocket(key);
    await c.init();
    c.subscribe("t");
    await c.message((m) => m.id === "t" && m.type === "next", "tail live");
    const keys = await listApiKeys(s.db.sql, "default");
    const id = keys.find((k) => key.startsWith(k.keyPrefix) && !k.revokedAt)!.id;
    const revoked = await s.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id }, bearer(admin));
    expect(revoked.errors).toBeUndefined();
    const t0 = Date.now();
    expect((await c.errorFor("t")).payload[0]!.extensions.code).toBe("unauthorized");
    expect(Date.now() - t0).toBeLessThan(5000);
    c.subscribe("after");
    expect(await c.codeFor("after")).toBe("unauthorized");
    c.send({
      id: "m",
      type: "subscribe",
      payload: { query: `mutation { append(sessionId: "${SESSION}", event: { payload: {} }) { seq } }` },
    });
    expect(await c.codeFor("m")).toBe("unauthorized");
    expect(await s.db.sql`select 1 from starcite.events where session_id = ${SESSION}`).toHaveLength(0);
  });

  test("a key revoked behind the server's back (SQL) is noticed within the key cache window", async () => {
    const key = await apiKey(s.db.sql, "default");
    const c = rawSocket(key);
    await c.init();
    c.subscribe("t");
    await c.message((m) => m.id === "t" && m.type === "next", "tail live");
    const id = (await listApiKeys(s.db.sql, "default")).find((k) => key.startsWith(k.keyPrefix) && !k.revokedAt)!.id;
    await revokeApiKey(s.db.sql, id, null);
    const t0 = Date.now();
    expect((await c.errorFor("t")).payload[0]!.extensions.code).toBe("unauthorized");
    expect(Date.now() - t0).toBeLessThan(2000 + 1500);
  });

  test("a key expired in SQL: the tail ends with unauthorized", async () => {
    const key = await apiKey(s.db.sql, "default");
    const c = rawSocket(key);
    await c.init();
    c.subscribe("t");
    await c.message((m) => m.id === "t" && m.type === "next", "tail live");
    await expireKey(s.db.sql, key);
    expect((await c.errorFor("t")).payload[0]!.extensions.code).toBe("unauthorized");
  });
});

test("nothing above was logged as an unexpected error", () => {
  expect(logs.errors()).toEqual([]);
});
