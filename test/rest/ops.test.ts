/**
 * The REST surface under operational stress: shutdown closes tails with 1001 / ends SSE streams and
 * refuses work with 503 shutting_down; a full append queue is 429 overloaded; an unreachable database
 * is 503 database_unavailable and ends tails with 1013. Every wait polls a real condition.
 */
import net from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { TailCloseCode } from "@starcite/sdk/protocol";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { sid, waitUntil, within } from "../sql/_support.ts";
import { call, sseTail, wsTail } from "./support.ts";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

async function createAt(url: string): Promise<string> {
  const id = sid("ops");
  expect((await call(url, "POST", "/v1/sessions", { id })).status).toBe(201);
  return id;
}

/**
 * Sends a request's head now and its body later, on a raw socket. `started` resolves on the server's
 * "100 Continue", i.e. once the server is handling the request.
 */
function splitRequest(port: number, path: string, body: string) {
  const socket = net.connect(port, "127.0.0.1", () =>
    socket.write(
      `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nexpect: 100-continue\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n`,
    ),
  );
  let data = "";
  let onContinue!: () => void;
  const started = new Promise<void>((resolve) => (onContinue = resolve));
  const response = new Promise<{ status: number; body: any }>((resolve, reject) => {
    socket.on("data", (c: Buffer) => {
      data += c.toString();
      if (data.startsWith("HTTP/1.1 100")) {
        data = data.slice(data.indexOf("\r\n\r\n") + 4);
        onContinue();
      }
      const head = data.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(data)?.[1];
      if (head >= 0 && length && data.length >= head + 4 + Number(length)) {
        resolve({ status: Number(data.slice(9, 12)), body: JSON.parse(data.slice(head + 4, head + 4 + Number(length))) });
        socket.destroy();
      }
    });
    socket.on("error", reject);
  });
  return { started, sendBody: () => socket.write(body), response };
}

test("shutdown: WebSocket tails close with 1001, SSE tails end after tail_error shutting_down, new work gets 503", async () => {
  const s = await startTestServer({}, t.db);
  const id = await createAt(s.url);
  const w = wsTail(`${s.url.replace(/^http/, "ws")}/v1/sessions/${id}/tail`);
  const e = sseTail(`${s.url}/v1/sessions/${id}/tail`);
  await w.until(() => w.caughtUp);
  await e.until(() => e.messages.some((m) => m.event === "caught_up"));
  // A request whose body is still on its way when the server starts closing.
  const late = splitRequest(s.server.port, `/v1/sessions/${id}/append`, JSON.stringify({ payload: { late: true } }));
  await within(5_000, "100 Continue", late.started);

  const closed = s.server.close();
  late.sendBody();
  expect(await within(5_000, "the late request's answer", late.response)).toEqual({
    status: 503,
    body: { error: "shutting_down", message: expect.any(String) },
  });
  const wsClosed = await w.untilClosed(5_000);
  expect(wsClosed.code).toBe(TailCloseCode.GoingAway);
  expect(wsClosed.reason).toMatch(/^shutting_down: /);
  await e.until(() => e.ended, 5_000);
  expect(e.messages.at(-1)).toMatchObject({ event: "tail_error" });
  expect(JSON.parse(e.messages.at(-1)!.data)).toMatchObject({ error: "shutting_down" });
  await within(10_000, "server.close()", closed);
  await s.close();
});

test("a full append queue answers 429 overloaded at once; the queued append still lands", async () => {
  const s = await startTestServer({ batcher: { maxInFlight: 1, maxQueued: 0 } }, t.db);
  const id = await createAt(s.url);
  // Hold the session's counter row so the first append's transaction waits on it.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const tx = t.db.sql.begin(async (sql) => {
    await sql`select 1 from starcite.sessions where id = ${id} for update`;
    locked();
    await held;
  });
  await isLocked;
  const first = call(s.url, "POST", `/v1/sessions/${id}/append`, { payload: { n: 1 } });
  await waitUntil("the first append to wait on the row lock", async () => {
    const [row] = await t.db.sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
    return row!.n > 0;
  });
  const second = await call(s.url, "POST", `/v1/sessions/${id}/append`, { payload: { n: 2 } });
  expect(second.status).toBe(429);
  expect(second.body).toMatchObject({ error: "overloaded", detail: { max_queued: 0 } });
  release();
  await tx;
  expect((await first).body).toEqual({ seq: 1, last_seq: 1, deduped: false });
  await s.close();
});

/** A TCP proxy in front of Postgres that can be cut, to make the database unreachable for one server only. */
async function cuttableProxy(target: URL) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    cut: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

test("an unreachable database: REST answers 503 database_unavailable, tails end with 1013 / tail_error", async () => {
  const target = new URL(t.db.url);
  const proxy = await cuttableProxy(target);
  const viaProxy = new URL(t.db.url);
  viaProxy.port = String(proxy.port);
  const s = await startTestServer({ hub: { unavailableAfterMs: 200 } }, { ...t.db, url: viaProxy.toString() });
  const id = await createAt(s.url);
  const w = wsTail(`${s.url.replace(/^http/, "ws")}/v1/sessions/${id}/tail`);
  const e = sseTail(`${s.url}/v1/sessions/${id}/tail`);
  await w.until(() => w.caughtUp);
  await e.until(() => e.messages.some((m) => m.event === "caught_up"));

  await proxy.cut();
  const res = await call(s.url, "POST", `/v1/sessions/${id}/append`, { payload: { n: 1 } });
  expect(res.status).toBe(503);
  expect(res.body).toMatchObject({ error: "database_unavailable" });
  expect((await call(s.url, "GET", `/v1/sessions/${id}/events`)).body).toMatchObject({ error: "database_unavailable" });

  const wsClosed = await w.untilClosed(10_000);
  expect(wsClosed.code).toBe(TailCloseCode.TryAgainLater);
  expect(wsClosed.reason).toMatch(/^database_unavailable: /);
  await e.until(() => e.ended, 10_000);
  expect(JSON.parse(e.messages.at(-1)!.data)).toMatchObject({ error: "database_unavailable" });
  await s.server.close();
});
