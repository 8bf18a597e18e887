/**
 * Appends over the WebSocket a client already holds. graphql-ws carries mutations too; the SDK sends a
 * session's appends over its tail's socket while it is open (no HTTP round trip) and over HTTP otherwise.
 * Either way the server answers the same: same results, same errors, same dedup of (producerId, producerSeq),
 * the same authentication per operation.
 */
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Starcite, type AppendResult, type StarciteEvent } from "@starcite/sdk";
import { APPEND } from "../../src/sdk/queries.ts";
import { startTestServer, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";
import { adminKey, startProxy, until } from "./support.ts";

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

/** One operation over a graphql-ws client: its data, or its errors' first extensions. */
function overSocket(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
): Promise<{ data?: Record<string, unknown>; error?: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    let out: { data?: Record<string, unknown>; error?: Record<string, unknown> } = {};
    client.subscribe(
      { query, variables },
      {
        next: (r) =>
          (out = r.errors?.length
            ? { error: { message: r.errors[0]!.message, ...r.errors[0]!.extensions } }
            : { data: r.data as Record<string, unknown> }),
        error: (e) => (Array.isArray(e) ? resolve({ error: { message: e[0].message, ...e[0].extensions } }) : reject(e)),
        complete: () => resolve(out),
      },
    );
  });
}

async function overHttp(query: string, variables: Record<string, unknown>, credential: string) {
  const body = await s.gql<Record<string, unknown>>(query, variables, { authorization: `Bearer ${credential}` });
  return body.errors?.length ? { error: { message: body.errors[0]!.message, ...body.errors[0]!.extensions } } : { data: body.data! };
}

/** A graphql-ws client whose one socket stays open between operations. */
function socketClient(credential: string): Client {
  return s.wsClient({ connectionParams: { authorization: `Bearer ${credential}` }, lazy: false });
}

describe("appends over graphql-ws", () => {
  test("dedup of (producerId, producerSeq) is the same over the socket and over HTTP, and so are the errors", async () => {
    await admin.createSession({ id: "ses_ws_dedup" });
    const client = socketClient(apiKey);
    const event = (producerSeq: number, text = "hi") => ({
      sessionId: "ses_ws_dedup",
      event: { type: "t", payload: { text }, producerId: "p", producerSeq },
    });

    expect(await overSocket(client, APPEND, event(1))).toEqual({ data: { append: { seq: 1, lastSeq: 1, deduped: false } } });
    // The same producerSeq again: over the socket, then over HTTP, then once more over the socket.
    expect(await overSocket(client, APPEND, event(1))).toEqual({ data: { append: { seq: 1, lastSeq: 1, deduped: true } } });
    expect(await overHttp(APPEND, event(1), apiKey)).toEqual({ data: { append: { seq: 1, lastSeq: 1, deduped: true } } });
    expect(await overHttp(APPEND, event(2), apiKey)).toEqual({ data: { append: { seq: 2, lastSeq: 2, deduped: false } } });
    expect(await overSocket(client, APPEND, event(2))).toEqual({ data: { append: { seq: 2, lastSeq: 2, deduped: true } } });

    // Errors carry the same code and detail on both: a gap, a replay with other content.
    for (const bad of [event(4), event(1, "other content")]) {
      const viaSocket = await overSocket(client, APPEND, bad);
      expect(viaSocket.error?.code).toMatch(/^producer_(seq|replay)_conflict$/);
      expect(viaSocket).toEqual(await overHttp(APPEND, bad, apiKey));
    }
    const stored = await s.db.sql`select seq, producer_seq from starcite.events where session_id = 'ses_ws_dedup' order by seq`;
    expect(stored.map((r) => [r.seq, r.producer_seq])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  test("each operation is authenticated: a key revoked while its socket is open can no longer append there", async () => {
    await admin.createSession({ id: "ses_ws_revoked" });
    const created = await admin.createApiKey({ name: "short-lived", tenantId: "acme", scopes: ["session:append", "session:read"] });
    const client = socketClient(created.secret);
    const event = { sessionId: "ses_ws_revoked", event: { payload: { n: 1 } } };
    expect((await overSocket(client, APPEND, event)).data).toMatchObject({ append: { seq: 1 } });
    let closed = 0;
    client.on("closed", () => closed++);
    await admin.revokeApiKey(created.key.id);
    expect((await overSocket(client, APPEND, event)).error).toMatchObject({ code: "unauthorized" });
    // Refused on the socket that was open all along.
    expect(closed).toBe(0);
  });
});

describe("the SDK", () => {
  test("with its tail open, a session appends over that socket: no HTTP request, the same results", async () => {
    let httpRequests = 0;
    const client = new Starcite({ baseUrl: s.url, apiKey, fetch: (url, init) => (httpRequests++, fetch(url, init)) });
    const session = await client.session({ identity: client.agent({ id: "writer" }), id: "ses_ws_sdk" });
    const seen: StarciteEvent[] = [];
    session.on("event", (e) => seen.push(e));
    await until(() => session.status === "live", 10_000, "live");

    const before = httpRequests;
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => session.append({ type: "token", payload: { i } })));
    expect(httpRequests).toBe(before);
    expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    await until(() => seen.length === 30, 10_000, "the appends on the tail");
    expect(seen.map((e) => [e.seq, (e.payload as { i: number }).i, e.actor])).toEqual(results.map((r, i) => [r.seq, i, "agent:writer"]));

    // A refused event is refused the same way (forbidden_actor: a token appends as itself).
    await expect(session.append({ text: "x", actor: "agent:someone-else" })).rejects.toMatchObject({ code: "forbidden_actor" });
    expect(httpRequests).toBe(before);
    await session.close();
  });

  test("sockets dropped while appends are in flight: every event exactly once, in order (retries dedup)", async () => {
    const proxy = await startProxy(s.server.port);
    try {
      const client = new Starcite({
        baseUrl: proxy.url,
        apiKey,
        retry: { baseDelayMs: 10, maxDelayMs: 100, maxAttempts: 100 },
        reconnect: { baseDelayMs: 10, maxDelayMs: 100 },
        maxBatchSize: 5,
      });
      const session = await client.session({ identity: client.agent({ id: "dropped" }), id: "ses_ws_drop" });
      session.on("event", () => {});
      await until(() => session.status === "live", 10_000, "live");
      const settled: AppendResult[] = [];
      const appends = Array.from({ length: 200 }, (_, i) =>
        session.append({ type: "token", payload: { i } }).then((r) => (settled[i] = r)),
      );
      for (let cut = 0; cut < 3; cut++) {
        const target = (cut + 1) * 40;
        await until(() => settled.filter(Boolean).length >= target, 20_000, `${target} confirmed`);
        proxy.dropAll();
      }
      await Promise.all(appends);
      const stored = await s.db.sql<{ seq: number; payload: { i: number } }[]>`
        select seq, payload from starcite.events where session_id = 'ses_ws_drop' order by seq`;
      expect(stored.map((r) => r.payload.i)).toEqual(Array.from({ length: 200 }, (_, i) => i));
      expect(settled.map((r) => r.seq)).toEqual(stored.map((r) => r.seq));
      await session.close();
    } finally {
      await proxy.close();
    }
  });
});
