import { afterAll, beforeAll, expect, test } from "vitest";
import WebSocket from "ws";
import { SOCKET_LIMITS } from "../../src/shared/limits.ts";
import { appendBulk, BULK_FILLER_BYTES } from "../helpers/events.ts";
import { collectTail, startTestServer, TAIL_QUERY, type TestServer } from "../helpers/server.ts";
import { waitUntil } from "../sql/_support.ts";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.close();
});

/** A bare graphql-ws client whose TCP socket can be paused, to play a subscriber that stops reading. */
function rawSubscriber(sessionId: string) {
  const ws = new WebSocket(s.wsUrl, "graphql-transport-ws");
  const seqs: number[] = [];
  /** The subscription id of each received `next`, in order. */
  const ids: string[] = [];
  let pongs = 0;
  let acked = false;
  let batches = 0;
  const watchers = new Set<() => void>();
  ws.on("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: {} })));
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data)) as { type: string; payload?: { data?: { tail?: { events: { seq: number }[] } } } };
    if (msg.type === "connection_ack") {
      acked = true;
      ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: TAIL_QUERY, variables: { sessionId, cursor: 0 } } }));
    }
    if (msg.type === "pong") pongs++;
    if (msg.type === "next") {
      batches++;
      ids.push((msg as { id?: string }).id ?? "");
      seqs.push(...(msg.payload?.data?.tail?.events ?? []).map((e) => e.seq));
    }
    watchers.forEach((w) => w());
  });
  const socket = () => (ws as unknown as { _socket: import("node:net").Socket })._socket;
  return {
    seqs,
    ids,
    send: (message: unknown) => ws.send(JSON.stringify(message)),
    get pongs() {
      return pongs;
    },
    get batches() {
      return batches;
    },
    pause: () => socket().pause(),
    resume: () => socket().resume(),
    close: () => ws.close(),
    until(pred: () => boolean, timeoutMs: number): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pred()) return;
          watchers.delete(check);
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`timed out with ${seqs.length} events (acked=${acked})`));
        }, timeoutMs);
        watchers.add(check);
        check();
      });
    },
  };
}

test("a subscriber that stops reading holds at most about one page in server memory, and loses nothing", async () => {
  const sessionId = "ses_slow";
  await s.db.sql`select * from starcite.create_session(${sessionId})`;
  const slow = rawSubscriber(sessionId);
  // Subscribed and caught up: its first batch (the empty live marker) has arrived.
  await slow.until(() => slow.batches >= 1, 5_000);
  expect(slow.seqs).toEqual([]);
  const fast = collectTail(s.wsClient(), sessionId, 0);
  await fast.until(() => fast.batches.some((b) => b.live), 10_000, "fast live");
  slow.pause();

  // ~40 MB of events, far more than kernel socket buffers hold.
  const total = 10_000;
  await appendBulk(s.db.sql, sessionId, total);
  // The fast subscriber is not held back by the slow one.
  await fast.until(() => fast.events.length === total, 60_000, "fast all");

  // While the slow one does not read, the server's userland buffer for it stays near one page (1000 events).
  const pageBytes = 1000 * (BULK_FILLER_BYTES + 200);
  const buffered = Math.max(...s.server.wsBufferedBytes());
  expect(buffered).toBeLessThan(2 * pageBytes);
  expect(slow.seqs.length).toBeLessThan(total);

  slow.resume();
  await slow.until(() => slow.seqs.length === total, 60_000);
  expect(slow.seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  slow.close();
  fast.unsubscribe();
});

test("a subscriber completes its tail while the server waits for its socket to drain: the tail is released, the socket serves the next one", async () => {
  const sessionId = "ses_slow_complete";
  await s.db.sql`select * from starcite.create_session(${sessionId})`;
  const active = async () => Number(/^starcite_subscriptions_active (\S+)$/m.exec(await (await fetch(`${s.url}/metrics`)).text())?.[1]);
  const buffered = () => Math.max(0, ...s.server.wsBufferedBytes());
  const slow = rawSubscriber(sessionId);
  await slow.until(() => slow.batches >= 1, 5_000);
  slow.pause();
  const total = 5_000;
  await appendBulk(s.db.sql, sessionId, total);
  // The server has written its send-ahead allowance and waits for the socket to drain.
  await waitUntil("the server waiting for the paused socket", () => buffered() >= SOCKET_LIMITS.sendAheadBytes);
  expect(await active()).toBe(1);

  // Pausing stops reading, not writing: the complete reaches the server, which releases the tail mid-wait.
  slow.send({ id: "1", type: "complete" });
  await waitUntil("the tail released", async () => (await active()) === 0);
  expect(s.server.hub.feedCount).toBe(0);

  // What was written before still arrives (a pong answers the ping after all of it), gapless.
  slow.resume();
  slow.send({ type: "ping" });
  await slow.until(() => slow.pongs > 0, 10_000);
  const first = slow.seqs.length;
  expect(first).toBeGreaterThan(0);
  expect(first).toBeLessThan(total);
  expect(slow.seqs).toEqual(Array.from({ length: first }, (_, i) => i + 1));
  expect(new Set(slow.ids)).toEqual(new Set(["1"]));

  // The same socket resumes from its cursor: every event once, in order.
  slow.send({ id: "2", type: "subscribe", payload: { query: TAIL_QUERY, variables: { sessionId, cursor: first } } });
  await slow.until(() => slow.seqs.length === total, 30_000);
  expect(slow.seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  slow.close();
});
