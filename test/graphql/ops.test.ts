/**
 * The operational surface: health endpoints, metrics, graceful shutdown under load, subscriptions that
 * leak nothing when clients unsubscribe, and a server that survives its Postgres going away and coming
 * back. Real Postgres, real sockets; every wait polls a real condition with a bounded deadline.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from "../../src/db/embedded.ts";
import { migrate } from "../../src/db/migrate.ts";
import { silentLogger, type Logger } from "../../src/shared/logger.ts";
import { startServer, type RunningServer } from "../../src/server/index.ts";
import { freePort } from "../helpers/net.ts";
import { collectTail, startTestServer, TEST_TOKEN_SECRET, type GraphQLResponse, type TestServer } from "../helpers/server.ts";
import { sid, waitUntil, within } from "../sql/_support.ts";

const APPEND = `mutation($sessionId: ID!, $event: AppendInput!) {
  append(sessionId: $sessionId, event: $event) { seq lastSeq deduped } }`;
const APPEND_BATCH = `mutation($sessionId: ID!, $events: [AppendInput!]!) {
  appendBatch(sessionId: $sessionId, events: $events) { seq } }`;
const CREATE = `mutation($id: ID) { createSession(id: $id) { id } }`;

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});

afterAll(async () => {
  await t?.close();
});

async function gqlAt<T = Record<string, any>>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GraphQLResponse<T>> {
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GraphQLResponse<T>;
}

function expectOk<T>(res: GraphQLResponse<T>): T {
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!;
}

async function gaugeValue(server: RunningServer): Promise<number> {
  return (await server.metrics.subscriptions.get()).values[0]?.value ?? 0;
}

async function createSessionAt(url: string, id = sid("ops")): Promise<string> {
  expectOk(await gqlAt(url, CREATE, { id }));
  return id;
}

// ------------------------------------------------------------------------------------------------
// Health and metrics
// ------------------------------------------------------------------------------------------------

describe("health and metrics", () => {
  test("/health/live is 200", async () => {
    const res = await fetch(`${t.url}/health/live`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  test("/health/ready is 200 with the database and the listener up", async () => {
    const res = await fetch(`${t.url}/health/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", database: true, listener: true, shuttingDown: false });
  });

  test("/metrics exposes the starcite metrics in Prometheus text format", async () => {
    // Produce a sample of each: an append, a live tail that receives it, a hub read.
    const id = await createSessionAt(t.url);
    const client = t.wsClient();
    const tail = collectTail(client, id);
    await tail.until(() => tail.batches.some((b) => b.live), 5_000, "tail live");
    expectOk(await t.gql(APPEND, { sessionId: id, event: { payload: { hello: "metrics" } } }));
    await tail.until(() => tail.events.length === 1, 5_000, "tail event");

    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    const types: Record<string, string> = {
      starcite_appends_total: "counter",
      starcite_append_batch_size: "histogram",
      starcite_append_duration_seconds: "histogram",
      starcite_subscriptions_active: "gauge",
      starcite_notifications_total: "counter",
      starcite_event_reads_total: "counter",
    };
    for (const [name, type] of Object.entries(types)) {
      expect(text, name).toContain(`# HELP ${name} `);
      expect(text, name).toContain(`# TYPE ${name} ${type}`);
    }
    const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
    expect(value(/^starcite_appends_total\{outcome="appended"\} (\S+)$/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^starcite_append_batch_size_count (\S+)$/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^starcite_append_duration_seconds_count (\S+)$/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^starcite_subscriptions_active (\S+)$/m)).toBe(1);
    expect(value(/^starcite_notifications_total (\S+)$/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^starcite_event_reads_total\{source="hub"\} (\S+)$/m)).toBeGreaterThanOrEqual(1);

    tail.unsubscribe();
    await client.dispose();
    await waitUntil("subscription released", async () => (await gaugeValue(t.server)) === 0, 5_000);
  });
});

// ------------------------------------------------------------------------------------------------
// Graceful shutdown
// ------------------------------------------------------------------------------------------------

type Outcome =
  | { kind: "ok"; i: number; seq: number }
  | { kind: "error"; i: number; status: number; code: unknown }
  | { kind: "network"; i: number; error: string };

/** One append over its own fetch; the outcome says what the client saw. */
async function appendOutcome(url: string, sessionId: string, i: number): Promise<Outcome> {
  let res: Response;
  try {
    res = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: APPEND, variables: { sessionId, event: { payload: { i } } } }),
    });
  } catch (error) {
    return { kind: "network", i, error: String((error as Error).cause ?? error) };
  }
  let body: string;
  try {
    body = await res.text();
  } catch (error) {
    // Headers arrived but the body was cut off: treat as no response.
    return { kind: "network", i, error: `body: ${String((error as Error).cause ?? error)}` };
  }
  const json = JSON.parse(body) as GraphQLResponse<{ append: { seq: number } }>;
  if (json.data?.append) return { kind: "ok", i, seq: json.data.append.seq };
  return { kind: "error", i, status: res.status, code: json.errors?.[0]?.extensions?.code };
}

describe("browsers on other origins", () => {
  // The development default (STARCITE_CORS_ORIGINS unset, not production): any origin, without credentials.
  // Origin lists and the production default are in test/hostile/http.test.ts.
  test("the preflight and the JSON POST both carry CORS headers (any origin, in development)", async () => {
    const origin = "http://app.example.test";
    const preflight = await fetch(`${t.url}/graphql`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-credentials")).toBeNull();
    const post = await fetch(`${t.url}/graphql`, {
      method: "POST",
      headers: { origin, "content-type": "application/json" },
      body: JSON.stringify({ query: "{ sessions(limit: 1) { id } }" }),
    });
    expect(post.status).toBe(200);
    expect(post.headers.get("access-control-allow-origin")).toBe("*");
    expect(post.headers.get("access-control-allow-credentials")).toBeNull();
  });
});

describe("graceful shutdown", () => {
  /** Starts 100 appends and calls close() once `closeAfter` of them have a response (0: in the same tick). */
  async function shutdownUnderLoad(closeAfter: number) {
    // A second server on this file's database; close() on it leaves the database to the file.
    const s = await startTestServer({}, t.db);
    const id = await createSessionAt(s.url);
    const client = s.wsClient();
    const tails = [collectTail(client, id), collectTail(client, id), collectTail(s.wsClient(), id)];
    for (const tail of tails) await tail.until(() => tail.batches.some((b) => b.live), 5_000, "tail live");
    expect(await gaugeValue(s.server)).toBe(3);
    expect(s.server.hub.feedCount).toBe(1);

    let settled = 0;
    let onSettled = () => {};
    const pending = Array.from({ length: 100 }, (_, i) =>
      appendOutcome(s.url, id, i).finally(() => {
        settled++;
        onSettled();
      }),
    );
    if (closeAfter > 0) {
      await within(
        10_000,
        `${closeAfter} append responses`,
        new Promise<void>((resolve) => {
          onSettled = () => settled >= closeAfter && resolve();
        }),
      );
    }
    const closed = s.server.close();

    const outcomes = await within(15_000, "every append to settle", Promise.all(pending));
    await within(15_000, "server.close()", closed);

    for (const o of outcomes) {
      if (o.kind === "error") {
        // A clean, documented refusal: never a masked internal error or a 5xx other than the 503 for shutdown.
        expect(o.code, JSON.stringify(o)).toMatch(/^(shutting_down|database_unavailable)$/);
        expect([200, 503]).toContain(o.status);
      }
    }
    const ok = outcomes.filter((o): o is Extract<Outcome, { kind: "ok" }> => o.kind === "ok");

    // The log holds exactly the acknowledged appends, gapless, each at the seq its caller was told.
    const rows = await t.db.sql<{ seq: number; i: number }[]>`
      select seq, (payload->>'i')::int as i from starcite.events where session_id = ${id} order by seq`;
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: rows.length }, (_, k) => k + 1));
    expect(new Map(rows.map((r) => [r.i, r.seq]))).toEqual(new Map(ok.map((o) => [o.i, o.seq])));

    // Open subscriptions were ended by the server, not left hanging.
    for (const tail of tails) {
      await within(
        5_000,
        "the subscription to end",
        new Promise<void>((resolve, reject) => {
          tail.ended(5_000).then(resolve, reject);
        }),
      );
      expect(tail.completed || tail.errors.length > 0).toBe(true);
    }
    await waitUntil("starcite_subscriptions_active back to 0", async () => (await gaugeValue(s.server)) === 0, 5_000);
    expect(s.server.hub.feedCount).toBe(0);

    // The server is gone: new requests are refused at the socket.
    await expect(fetch(`${s.url}/health/live`)).rejects.toThrow();
    await s.close();
    return { ok: ok.length, outcomes };
  }

  test("close() while 100 appends are in flight: each append either succeeded or failed cleanly, the log equals the successes", async () => {
    const { ok, outcomes } = await shutdownUnderLoad(1);
    expect(ok).toBeGreaterThanOrEqual(1);
    expect(outcomes).toHaveLength(100);
  });

  test("close() with half of the appends answered and the rest in flight", async () => {
    const { ok, outcomes } = await shutdownUnderLoad(50);
    expect(ok).toBeGreaterThanOrEqual(50);
    expect(outcomes).toHaveLength(100);
  });

  test("close() in the same tick the appends are issued", async () => {
    const { outcomes } = await shutdownUnderLoad(0);
    expect(outcomes).toHaveLength(100);
  });
});

// ------------------------------------------------------------------------------------------------
// Unsubscribe leaks nothing
// ------------------------------------------------------------------------------------------------

describe("unsubscribe", () => {
  test("200 subscribe/unsubscribe cycles (idle, mid-replay, immediate, socket drop) leave no feed and no active subscription", async () => {
    // Small pages so that a tail from 0 replays in many batches and can be stopped mid-replay.
    const s = await startTestServer({ hub: { pageSize: 5 } }, t.db);
    try {
      const history = await createSessionAt(s.url);
      expectOk(
        await gqlAt(s.url, APPEND_BATCH, {
          sessionId: history,
          events: Array.from({ length: 300 }, (_, i) => ({ payload: { i } })),
        }),
      );
      const idle = await Promise.all(Array.from({ length: 5 }, () => createSessionAt(s.url)));

      const clients = Array.from({ length: 4 }, () => s.wsClient());
      const kinds = ["idle", "midReplay", "immediate", "liveTraffic", "socketDrop"] as const;
      const counts: Record<string, number> = {};

      async function cycle(n: number): Promise<void> {
        const kind = kinds[n % kinds.length]!;
        counts[kind] = (counts[kind] ?? 0) + 1;
        const client = clients[n % clients.length]!;
        switch (kind) {
          case "idle": {
            // Caught up and waiting for new events when the client stops.
            const tail = collectTail(client, idle[n % idle.length]!);
            await tail.until(() => tail.batches.some((b) => b.live), 5_000, "idle tail live");
            tail.unsubscribe();
            return;
          }
          case "midReplay": {
            const tail = collectTail(client, history, n % 50);
            await tail.until(() => tail.batches.length > 0, 5_000, "first replay batch");
            expect(tail.batches[0]!.live).toBe(false);
            tail.unsubscribe();
            return;
          }
          case "immediate": {
            // Unsubscribed before (or while) the server sets the subscription up.
            const tail = collectTail(client, n % 2 ? history : idle[0]!);
            tail.unsubscribe();
            return;
          }
          case "liveTraffic": {
            const sessionId = idle[n % idle.length]!;
            const tail = collectTail(client, sessionId);
            await tail.until(() => tail.batches.some((b) => b.live), 5_000, "tail live");
            const appended = gqlAt(s.url, APPEND, { sessionId, event: { payload: { n } } });
            tail.unsubscribe();
            expectOk(await appended);
            return;
          }
          case "socketDrop": {
            // The whole connection goes away with subscriptions open (one live, one mid-replay).
            const own = s.wsClient();
            const a = collectTail(own, idle[n % idle.length]!);
            const b = collectTail(own, history);
            await a.until(() => a.batches.some((x) => x.live), 5_000, "tail live");
            await b.until(() => b.batches.length > 0, 5_000, "replay batch");
            await own.dispose();
            return;
          }
        }
      }

      // 200 cycles, 20 at a time over 4 shared connections plus the socket-drop ones.
      for (let start = 0; start < 200; start += 20) {
        await within(15_000, `cycles ${start}..${start + 19}`, Promise.all(Array.from({ length: 20 }, (_, k) => cycle(start + k))));
      }
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(200);

      await waitUntil("every feed released", () => s.server.hub.feedCount === 0, 5_000);
      await waitUntil("starcite_subscriptions_active at 0", async () => (await gaugeValue(s.server)) === 0, 5_000);

      // The server still serves tails afterwards.
      const tail = collectTail(clients[0]!, history, 295);
      await tail.until(() => tail.batches.some((b) => b.live), 5_000, "tail after the churn");
      expect(tail.events.map((e) => e.seq)).toEqual([296, 297, 298, 299, 300]);
      tail.unsubscribe();
      await waitUntil("released again", async () => s.server.hub.feedCount === 0 && (await gaugeValue(s.server)) === 0, 5_000);
    } finally {
      await s.close();
    }
  });
});

// ------------------------------------------------------------------------------------------------
// Postgres goes away and comes back
// ------------------------------------------------------------------------------------------------

describe("Postgres restart", () => {
  // Made when the test runs (not at collection), so a filtered-out run leaves no directory behind.
  let tmp: string | undefined;
  let cluster: EmbeddedPostgresHandle | undefined;
  let server: RunningServer | undefined;
  const clients: Client[] = [];

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await server?.close().catch(() => {});
    await cluster?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  function wsClient(url: string): Client {
    const client = createClient({ url: url.replace(/^http/, "ws") + "/graphql", webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    clients.push(client);
    return client;
  }

  async function ready(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${url}/health/ready`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  test("a tail ends with an error instead of hanging, /health/ready turns 503, and the server recovers without a restart", async () => {
    // What the server logs about database_unavailable errors (the driver's code), for a failure's message.
    const causes: unknown[] = [];
    const recording: Logger = {
      ...silentLogger,
      info: (_msg, fields) => {
        if (fields?.cause) causes.push(fields);
      },
    };
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "starcite-ops-"));
    // As root, Postgres runs as the "postgres" user, which must be able to enter the directory.
    fs.chmodSync(tmp, 0o755);
    const dataDir = path.join(tmp, "pg");
    const port = await freePort();
    cluster = await startEmbeddedPostgres({ dataDir, port });
    const admin = postgres(cluster.url, { max: 1, onnotice: () => {} });
    await admin.unsafe("create database starcite");
    await admin.end();
    const dbUrl = new URL(cluster.url);
    dbUrl.pathname = "/starcite";
    const databaseUrl = dbUrl.toString();
    await migrate(databaseUrl);

    server = await startServer({
      config: { port: 0, host: "127.0.0.1", poolSize: 5 },
      databaseUrl,
      logger: recording,
      hub: { unavailableAfterMs: 1000 },
      auth: { mode: "none", tokenSecret: TEST_TOKEN_SECRET },
    });
    const url = server.url;
    expect((await ready(url)).status).toBe(200);

    const id = await createSessionAt(url);
    expectOk(await gqlAt(url, APPEND_BATCH, { sessionId: id, events: [{ payload: { n: 1 } }, { payload: { n: 2 } }] }));
    const before = collectTail(wsClient(url), id);
    await before.until(() => before.batches.some((b) => b.live) && before.events.length === 2, 5_000, "tail live");

    // Postgres goes away.
    const downAt = Date.now();
    await cluster.stop();
    cluster = undefined;

    await within(
      10_000,
      "the tail to end after Postgres stopped",
      new Promise<void>((resolve) => {
        before.ended(10_000).then(resolve, () => {});
      }),
    );
    const endedAfterMs = Date.now() - downAt;
    expect(before.errors.length, "the tail must end with an error, not complete as if the log ended").toBeGreaterThan(0);
    // graphql-ws hands the client an array of GraphQL errors, or a CloseEvent when the socket itself ended.
    const first = before.errors[0] as unknown;
    const err = (Array.isArray(first) ? first[0] : first) as { extensions?: { code?: unknown }; code?: unknown };
    const isSocketError = typeof err.code === "number";
    if (!isSocketError) expect(err.extensions?.code, JSON.stringify(before.errors)).toBe("database_unavailable");
    expect(endedAfterMs).toBeLessThan(10_000);

    const down = await waitUntil(
      "/health/ready to report 503",
      async () => {
        const r = await ready(url);
        return r.status === 503 ? r : null;
      },
      10_000,
    );
    expect(down.body).toMatchObject({ status: "unavailable", database: false });
    expect((await fetch(`${url}/health/live`)).status).toBe(200);

    // Work while it is down fails fast with a clean code.
    const failed = await within(
      10_000,
      "an append while Postgres is down",
      gqlAt(url, APPEND, { sessionId: id, event: { payload: { n: 0 } } }),
    );
    expect(failed.errors?.[0]?.extensions?.code, JSON.stringify(failed)).toBe("database_unavailable");
    const failedTail = collectTail(wsClient(url), id, 2);
    await within(
      10_000,
      "a tail while Postgres is down to fail",
      new Promise<void>((resolve) => {
        failedTail.ended(10_000).then(resolve, () => {});
      }),
    );
    expect(failedTail.errors.length).toBeGreaterThan(0);

    // Postgres comes back on the same data dir and port; the same server recovers.
    cluster = await startEmbeddedPostgres({ dataDir, port });
    const up = await waitUntil(
      "/health/ready back to 200",
      async () => {
        const r = await ready(url);
        return r.status === 200 ? r : null;
      },
      15_000,
    );
    expect(up.body).toEqual({ status: "ok", database: true, listener: true, shuttingDown: false });

    const after = collectTail(wsClient(url), id, 2);
    await after.until(() => after.batches.some((b) => b.live), 10_000, "new tail live");
    expect(after.events).toEqual([]);
    causes.length = 0;
    const firstAfter = await gqlAt(url, APPEND, { sessionId: id, event: { payload: { n: 3 } } });
    expect(firstAfter.errors, `${JSON.stringify(firstAfter.errors)}; driver causes: ${JSON.stringify(causes)}`).toBeUndefined();
    expect(expectOk(firstAfter).append).toEqual({
      seq: 3,
      lastSeq: 3,
      deduped: false,
    });
    expect(expectOk(await gqlAt(url, APPEND, { sessionId: id, event: { payload: { n: 4 } } })).append.seq).toBe(4);
    await after.until(() => after.events.length === 2, 10_000, "live events after recovery");
    expect(after.events.map((e) => [e.seq, e.payload.n])).toEqual([
      [3, 3],
      [4, 4],
    ]);

    // A tail from the start replays everything, nothing lost or duplicated by the outage.
    const replay = collectTail(wsClient(url), id, 0);
    await replay.until(() => replay.batches.some((b) => b.live), 10_000, "replay");
    expect(replay.events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);

    await server.close();
    server = undefined;
  });
});
