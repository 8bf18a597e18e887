import { createHook } from "node:async_hooks";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SessionTokens } from "../../src/auth/tokens.ts";
import {
  LocalStorageCursorStore,
  MemoryCursorStore,
  Starcite,
  type StarciteError,
  type StarciteEvent,
  type StarciteSession,
} from "@starcite/sdk";
import { startTestServer, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";
import { freePort } from "../helpers/net.ts";
import { adminKey, eventually, startProxy, until } from "./support.ts";

let s: TestServer;
let apiKey: string;
let admin: Starcite;

beforeAll(async () => {
  s = await startTestServer({ auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET } });
  apiKey = await adminKey(s.db);
  admin = new Starcite({ baseUrl: s.url, apiKey });
});
afterAll(async () => {
  await s?.close();
});

/** A `ws` WebSocket that records the subscribe messages it sends (the real socket, observed). */
function recordingWebSocket(subscribes: { cursor: number }[]) {
  return class RecordingWebSocket extends WebSocket {
    override send(data: unknown, ...rest: unknown[]): void {
      const message = JSON.parse(String(data)) as { type: string; payload?: { variables?: { cursor: number } } };
      if (message.type === "subscribe") subscribes.push({ cursor: message.payload!.variables!.cursor });
      (super.send as (...a: unknown[]) => void)(data, ...rest);
    }
  };
}

function collect(session: StarciteSession) {
  const events: StarciteEvent[] = [];
  const phases: string[] = [];
  const errors: StarciteError[] = [];
  session.on("event", (event, { phase }) => {
    events.push(event);
    phases.push(phase);
  });
  session.on("error", (error) => errors.push(error));
  return { events, phases, errors };
}

const seqs = (n: number, from = 1) => Array.from({ length: n }, (_, i) => i + from);

describe("tail", () => {
  test("dropped WebSockets mid-stream: it resubscribes from the last seen seq, no gap, no duplicate", async () => {
    const proxy = await startProxy(s.server.port);
    const subscribes: { cursor: number }[] = [];
    const writer = await admin.session({ identity: admin.agent({ id: "writer" }), id: "ses_drop" });
    const reader = await new Starcite({
      baseUrl: proxy.url,
      apiKey,
      webSocketImpl: recordingWebSocket(subscribes),
      reconnect: { baseDelayMs: 20, maxDelayMs: 200 },
    }).session({ identity: admin.user({ id: "reader" }), id: "ses_drop" });
    const got = collect(reader);
    const writes = (async () => {
      for (let k = 1; k <= 300; k++) await writer.append({ type: "step", payload: { k } });
    })();
    await until(() => got.events.length >= 50, 15_000, "first 50");
    proxy.dropAll();
    await until(() => got.events.length >= 150, 15_000, "150 after the first drop");
    proxy.dropAll();
    await writes;
    proxy.dropAll();
    await until(() => got.events.length >= 300, 15_000, "all 300");

    expect(got.events.map((e) => e.seq)).toEqual(seqs(300));
    expect(got.events.map((e) => e.payload.k)).toEqual(seqs(300));
    expect(got.errors).toEqual([]);
    // Every resubscribe asked for events after the last one it had, never the original cursor 0.
    expect(subscribes.length).toBeGreaterThanOrEqual(3);
    expect(subscribes[0]!.cursor).toBe(0);
    for (const sub of subscribes.slice(1)) expect(sub.cursor).toBeGreaterThanOrEqual(50);
    expect(subscribes.map((x) => x.cursor)).toEqual([...subscribes.map((x) => x.cursor)].sort((a, b) => a - b));
    await Promise.all([writer.close(), reader.close()]);
    await proxy.close();
  });

  test("an event listener added late gets the history first (as replay), then live", async () => {
    const session = await admin.session({ identity: admin.agent({ id: "a" }), id: "ses_late" });
    await session.append({ text: "one" });
    const first = collect(session);
    await until(() => first.events.length === 1 && session.state().status === "live");
    await session.append({ text: "two" });
    await until(() => first.events.length === 2);
    const late = collect(session);
    await until(() => late.events.length === 2);
    await session.append({ text: "three" });
    await until(() => first.events.length === 3 && late.events.length === 3);
    expect(first.phases).toEqual(["replay", "live", "live"]);
    expect(late.phases).toEqual(["replay", "replay", "live"]);
    expect(late.events.map((e) => e.payload.text)).toEqual(["one", "two", "three"]);
    await session.close();
  });

  test("fatal problems go to on('error'): forbidden scope, session gone, bad token; the stream stops", async () => {
    await admin.createSession({ id: "ses_fatal" });
    // A token that may append but not read.
    const appendOnly = (
      await admin.createSessionToken({ sessionId: "ses_fatal", principal: { type: "agent", id: "w" }, scopes: ["session:append"] })
    ).token;
    const browser = new Starcite({ baseUrl: s.url });
    const a = browser.session({ token: appendOnly });
    const ga = collect(a);
    await until(() => ga.errors.length === 1);
    expect(ga.errors[0]).toMatchObject({ code: "forbidden_scope" });
    expect(a.state()).toMatchObject({ status: "failed", error: { code: "forbidden_scope" } });
    expect(await a.append({ text: "appending still works" })).toMatchObject({ seq: 1 });

    // The session disappears (deleted underneath): session_not_found.
    const doomed = await admin.session({ identity: admin.user({ id: "u" }), id: "ses_doomed" });
    await s.db.sql`delete from starcite.sessions where id = 'ses_doomed'`;
    const gd = collect(doomed);
    await until(() => gd.errors.length === 1);
    expect(gd.errors[0]).toMatchObject({ code: "session_not_found" });

    // A token signed with another secret: the socket closes with 4401, the SDK does not retry.
    const forged = (
      await new SessionTokens("another-secret-another-secret-0123456789").mint({
        tenantId: "acme",
        sessionId: "ses_fatal",
        principal: { type: "user", id: "mallory" },
        scopes: ["session:read"],
        ttlSeconds: 60,
      })
    ).token;
    const f = browser.session({ token: forged });
    const gf = collect(f);
    await until(() => gf.errors.length === 1);
    expect(gf.errors[0]).toMatchObject({ code: "unauthorized", detail: { closeCode: 4401 } });
    expect(f.state().status).toBe("failed");
    await Promise.all([a.close(), doomed.close(), f.close()]);
  });

  test("an expired token is refreshed with refreshToken() and the tail carries on", async () => {
    await admin.createSession({ id: "ses_refresh" });
    await admin.appendEvent("ses_refresh", { payload: { text: "history" }, actor: "user:x" });
    const tokens = new SessionTokens(TEST_TOKEN_SECRET);
    const expired = (
      await tokens.mint({
        tenantId: "acme",
        sessionId: "ses_refresh",
        principal: { type: "user", id: "x" },
        scopes: ["session:read", "session:append"],
        ttlSeconds: -5,
      })
    ).token;
    let refreshed = 0;
    const session = new Starcite({ baseUrl: s.url }).session({
      token: expired,
      refreshToken: async () => {
        refreshed++;
        return (await admin.createSessionToken({ sessionId: "ses_refresh", principal: { type: "user", id: "x" } })).token;
      },
    });
    const got = collect(session);
    await until(() => got.events.length === 1, 10_000, "history");
    expect(refreshed).toBe(1);
    expect(await session.append({ text: "live" })).toMatchObject({ seq: 2 });
    await until(() => got.events.length === 2);
    expect(got.phases).toEqual(["replay", "live"]);
    expect(got.errors).toEqual([]);
    await session.close();
  });

  test("a session bound to an identity re-mints its token when the server ends the tail at expiry", async () => {
    let mints = 0;
    const starcite = new Starcite({
      baseUrl: s.url,
      apiKey,
      tokenTtlSeconds: 1,
      fetch: (url, init) => {
        if (String(init.body).includes("createSessionToken")) mints++;
        return fetch(url, init);
      },
    });
    const session = await starcite.session({ identity: starcite.agent({ id: "short" }), id: "ses_ttl" });
    const got = collect(session);
    await session.append({ text: "1" });
    await until(() => got.events.length === 1);
    await until(() => mints >= 2, 10_000, "a re-mint after the token expired");
    expect(await session.append({ text: "2" })).toMatchObject({ seq: 2 });
    await until(() => got.events.length === 2, 10_000, "event after re-mint");
    expect(got.events.map((e) => e.seq)).toEqual([1, 2]);
    expect(got.errors).toEqual([]);
    await session.close();
  });

  test("a cursor store lets a new session object resume where the last one stopped", async () => {
    await admin.createSession({ id: "ses_resume" });
    for (let i = 1; i <= 3; i++) await admin.appendEvent("ses_resume", { payload: { i } });
    const store = new MemoryCursorStore();
    const alice = admin.user({ id: "alice" });
    const first = await admin.session({ identity: alice, id: "ses_resume", cursorStore: store });
    const g1 = collect(first);
    await until(() => g1.events.length === 3);
    await first.close();
    expect(store.load("ses_resume:user:alice")).toBe(3);

    await admin.appendEvent("ses_resume", { payload: { i: 4 } });
    const second = await admin.session({ identity: alice, id: "ses_resume", cursorStore: store });
    const g2 = collect(second);
    await until(() => g2.events.length === 1 && second.state().status === "live");
    expect(g2.events.map((e) => e.seq)).toEqual([4]);

    // localStorage (any Web Storage), as a browser uses by default; `cursor` overrides what is stored.
    const backing = new Map<string, string>();
    const storage = {
      getItem: (k: string) => backing.get(k) ?? null,
      setItem: (k: string, v: string) => void backing.set(k, v),
      removeItem: (k: string) => void backing.delete(k),
    };
    const browserA = await admin.session({ identity: alice, id: "ses_resume", cursorStore: new LocalStorageCursorStore(storage) });
    const g3 = collect(browserA);
    await until(() => g3.events.length === 4);
    await browserA.close();
    expect(backing.get("starcite:cursor:ses_resume:user:alice")).toBe("4");
    const reload = await admin.session({ identity: alice, id: "ses_resume", cursorStore: new LocalStorageCursorStore(storage) });
    const replayAll = await admin.session({
      identity: alice,
      id: "ses_resume",
      cursorStore: new LocalStorageCursorStore(storage),
      cursor: 0,
    });
    const g4 = collect(reload);
    const g5 = collect(replayAll);
    await admin.appendEvent("ses_resume", { payload: { i: 5 } });
    await until(() => g4.events.length === 1 && g5.events.length === 5);
    expect(g4.events.map((e) => e.seq)).toEqual([5]);
    await Promise.all([second.close(), reload.close(), replayAll.close()]);
  });

  test("close() releases the socket and every timer", async () => {
    // Track timers and sockets created by SDK code (and the graphql-ws/ws clients it drives) until they are gone.
    const owned = new Map<number, string>();
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 60;
    const hook = createHook({
      init(id, type) {
        if (type !== "Timeout" && type !== "TCPWRAP") return;
        const stack = new Error().stack ?? "";
        if (/src\/sdk\/|graphql-ws\/|\/ws\/lib\//.test(stack))
          owned.set(id, `${type}${stack.split("\n").find((l) => l.includes("src/sdk/")) ?? ""}`);
      },
      destroy(id) {
        owned.delete(id);
      },
    });
    const subscriptions = async () => (await s.server.metrics.subscriptions.get()).values[0]?.value ?? 0;
    // Earlier tests' sockets are closed; wait until the server has noticed.
    await eventually(async () => (await subscriptions()) === 0, 5_000, "no subscriptions before");
    hook.enable();
    try {
      const starcite = new Starcite({ baseUrl: s.url, apiKey, keepAliveMs: 20, reconnect: { baseDelayMs: 5000 } });
      const sessions = await Promise.all(
        [1, 2, 3].map((i) => starcite.session({ identity: starcite.agent({ id: `c${i}` }), id: "ses_close" })),
      );
      for (const session of sessions) session.on("event", () => {});
      await until(() => sessions.every((x) => x.state().status === "live"));
      expect(await subscriptions()).toBe(3);
      await sessions[0]!.append({ text: "x" });
      await until(() => sessions.every((x) => x.state().cursor === 1));
      // One more session waits for a reconnect (its server is gone) when it is closed.
      const nowhere = new Starcite({ baseUrl: `http://127.0.0.1:${await freePort()}`, reconnect: { baseDelayMs: 60_000 } }).session({
        token: (await starcite.createSessionToken({ sessionId: "ses_close", principal: { type: "user", id: "z" } })).token,
      });
      nowhere.on("event", () => {});
      await until(() => nowhere.state().status === "reconnecting");
      expect(owned.size).toBeGreaterThan(0);
      await Promise.all([...sessions, nowhere].map((x) => x.close()));
      expect([...sessions, nowhere].map((x) => x.state().status)).toEqual(["closed", "closed", "closed", "closed"]);
      await eventually(async () => owned.size === 0, 5_000, "SDK timers and sockets released").catch((error: Error) => {
        throw new Error(`${error.message}: ${[...owned.values()].join("; ")}`);
      });
      await eventually(async () => (await subscriptions()) === 0, 5_000, "server-side subscriptions closed");
    } finally {
      hook.disable();
      Error.stackTraceLimit = limit;
    }
  });
});
