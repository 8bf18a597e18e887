/**
 * Heartbeats: one timer spreads every connection's beat over the interval (src/shared/heartbeats.ts), and the
 * GraphQL WebSocket's keepalive on it: a socket that answers pings stays, one that does not is cut.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { DEFAULT_HEARTBEAT_MS, MISSED_PONGS_LIMIT } from "../../src/rest/streams.ts";
import { DEFAULT_KEEPALIVE_MS } from "../../src/server/websocket.ts";
import { Heartbeats } from "../../src/shared/heartbeats.ts";
import { ROOT } from "../helpers/node.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

/** Resolves once `done()` holds, checked after every beat. */
function recorder() {
  const runs: number[] = [];
  let inRun = false;
  const waiters: { done: () => boolean; resolve: () => void }[] = [];
  return {
    runs,
    /** Counts a beat into the current timer callback's run (beats of one tick run synchronously together). */
    beat() {
      if (!inRun) {
        inRun = true;
        runs.push(0);
        queueMicrotask(() => (inRun = false));
      }
      runs[runs.length - 1]!++;
      for (const w of [...waiters]) if (w.done()) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
    },
    until(done: () => boolean): Promise<void> {
      return new Promise((resolve) => (done() ? resolve() : waiters.push({ done, resolve })));
    },
  };
}

describe("Heartbeats", () => {
  test("every member beats once per interval, a slot's worth per tick", async () => {
    const hb = new Heartbeats(200, 20);
    const r = recorder();
    const counts = new Array<number>(100).fill(0);
    const stops = counts.map((_, i) => hb.add({ beat: () => (counts[i]!++, r.beat()) }));
    await r.until(() => r.runs.length >= 30);
    // 100 members over 10 slots: every tick beats 10 of them, never all at once.
    expect(new Set(r.runs)).toEqual(new Set([10]));
    // Three full cycles: each member beat three times (the beat that ended the wait may have begun a 31st tick).
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(3);
    expect(Math.max(...counts)).toBeLessThanOrEqual(4);
    stops.forEach((stop) => stop());
    expect(hb.size).toBe(0);
  });

  test("a member that stops, even from its own beat, beats no more; the rest go on", async () => {
    const hb = new Heartbeats(100, 20);
    const r = recorder();
    let quitter = 0;
    let stayer = 0;
    const stopQuitter = hb.add({ beat: () => (quitter++, stopQuitter(), stopQuitter()) });
    const stopStayer = hb.add({ beat: () => (stayer++, r.beat()) });
    await r.until(() => stayer >= 4);
    expect(quitter).toBe(1);
    expect(hb.size).toBe(1);
    stopStayer();
    expect(hb.size).toBe(0);
  });
  test("a member whose beat throws does not stop the others in its slot", async () => {
    const hb = new Heartbeats(100, 100); // one slot: every member beats in the same run
    const r = recorder();
    let thrown = 0;
    const stopThrower = hb.add({
      beat: () => {
        thrown++;
        throw new Error("the socket broke under it");
      },
    });
    const stopStayer = hb.add({ beat: () => r.beat() });
    await r.until(() => r.runs.length >= 3);
    expect(thrown).toBeGreaterThanOrEqual(3);
    stopThrower();
    stopStayer();
  });
});

describe("GraphQL WebSocket keepalive", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ keepaliveMs: 100 });
  });
  afterAll(async () => {
    await s?.close();
  });

  /** A graphql-transport-ws socket past connection_ack, counting the server's pings. */
  async function connect(autoPong: boolean) {
    const ws = new WebSocket(s.wsUrl, "graphql-transport-ws", { autoPong });
    const state = { pings: 0, closed: null as number | null };
    const waiters = new Set<() => void>();
    const notify = () => waiters.forEach((w) => w());
    ws.on("ping", () => (state.pings++, notify()));
    ws.on("close", (code) => ((state.closed = code), notify()));
    ws.on("error", () => {});
    const until = (done: () => boolean) =>
      new Promise<void>((resolve) => {
        const check = () => done() && (waiters.delete(check), resolve());
        waiters.add(check);
        check();
      });
    await new Promise((resolve) => ws.once("open", resolve));
    ws.send(JSON.stringify({ type: "connection_init", payload: {} }));
    await new Promise((resolve) => ws.once("message", resolve));
    return { ws, state, until };
  }

  test("a socket that answers pings stays open; one that does not is cut after one unanswered interval", async () => {
    const alive = await connect(true);
    const deaf = await connect(false);
    await deaf.until(() => deaf.state.closed !== null);
    // Cut by the server without a close frame (terminate), after its first ping went unanswered.
    expect(deaf.state.closed).toBe(1006);
    expect(deaf.state.pings).toBeGreaterThanOrEqual(1);
    await alive.until(() => alive.state.pings >= deaf.state.pings + 3);
    expect(alive.state.closed).toBeNull();
    alive.ws.close();
  });
});

test("the docs state the intervals the code uses", () => {
  const doc = (name: string) => fs.readFileSync(path.join(ROOT, "docs", name), "utf8").replace(/\s+/g, " ");
  expect(doc("protocol.md")).toContain(`a WebSocket ping frame every ${DEFAULT_KEEPALIVE_MS / 1000} s`);
  expect(MISSED_PONGS_LIMIT).toBe(3);
  expect(doc("rest.md")).toContain(
    `the server pings every ${DEFAULT_HEARTBEAT_MS / 1000} s (clients answer automatically); a peer that misses three pings`,
  );
});
