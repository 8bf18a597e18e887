/**
 * A Durable Stream is a starcite session: a Durable Streams client (@durable-streams/client) and a GraphQL `tail`
 * of the same stream see the same events in the same order, whichever side appended them, with the same API key.
 */
import { DurableStream, IdempotentProducer } from "@durable-streams/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apiKey, bearer } from "../auth/helpers.ts";
import { collectTail, startTestServer, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";

let s: TestServer;
let key: string;

beforeAll(async () => {
  s = await startTestServer({ auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET } });
  key = await apiKey(s.db.sql, "default");
});

afterAll(async () => {
  await s?.close();
});

const APPEND = `mutation A($sessionId: ID!, $payload: JSON!) { append(sessionId: $sessionId, event: { type: "note", payload: $payload }) { seq } }`;

/** Resolves once `predicate` holds, re-checked whenever `onChange` fires; fails after `ms`. */
function until(predicate: () => boolean, subscribe: (check: () => void) => void, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    const check = () => {
      if (predicate()) {
        clearTimeout(timer);
        resolve();
      }
    };
    subscribe(check);
    check();
  });
}

describe("Durable Streams client and GraphQL tail on one stream", () => {
  test("messages from a DS idempotent producer and GraphQL appends arrive in the same order on both readers", async () => {
    const url = `${s.url}/v1/stream/chat/room-${Date.now()}`;
    const headers = { Authorization: `Bearer ${key}` };
    const stream = await DurableStream.create({ url, contentType: "application/json", headers });
    const head = await fetch(url, { method: "HEAD", headers });
    const sessionId = head.headers.get("starcite-session-id")!;
    expect(sessionId).toBe(`ds:chat:${url.split("/chat/")[1]}`);

    // Readers first: a GraphQL tail from the start and a DS live reader (SSE) from -1.
    const gql = collectTail(s.wsClient({ connectionParams: { authorization: `Bearer ${key}` } }), sessionId, 0);
    const dsItems: unknown[] = [];
    const watchers = new Set<() => void>();
    const live = await stream.stream({ live: "sse", offset: "-1" });
    const unsubscribe = live.subscribeJson(async (batch) => {
      dsItems.push(...batch.items);
      for (const w of watchers) w();
    });

    // Writers at the same time: a DS idempotent producer and GraphQL appends, interleaving as they may.
    const producer = new IdempotentProducer(stream, "writer-1", { lingerMs: 1 });
    const N = 25;
    await Promise.all([
      (async () => {
        for (let i = 0; i < N; i++) {
          producer.append(JSON.stringify({ from: "ds", i }));
          if (i % 5 === 4) await producer.flush();
        }
        await producer.flush();
      })(),
      (async () => {
        for (let i = 0; i < N; i++) {
          const r = await s.gql(APPEND, { sessionId, payload: { from: "graphql", i } }, bearer(key));
          expect(r.errors).toBeUndefined();
        }
      })(),
    ]);

    await gql.until(() => gql.events.length >= 2 * N, 20_000, "GraphQL tail");
    await until(
      () => dsItems.length >= 2 * N,
      (check) => watchers.add(check),
      20_000,
      "DS reader",
    );
    unsubscribe();

    // The GraphQL tail sees each DS message as a ds.message event whose payload is the message.
    const fromGraphql = gql.events.map((e) => e.payload);
    expect(gql.events.map((e) => e.seq)).toEqual(Array.from({ length: 2 * N }, (_, i) => i + 1));
    expect(new Set(gql.events.map((e) => e.type))).toEqual(new Set(["ds.message", "note"]));
    expect(dsItems).toEqual(fromGraphql);
    // Each writer's messages stay in its own order.
    for (const from of ["ds", "graphql"]) {
      expect(dsItems.filter((m) => (m as { from: string }).from === from).map((m) => (m as { i: number }).i)).toEqual(
        Array.from({ length: N }, (_, i) => i),
      );
    }

    // Closing through the producer ends the DS reader's stream; GraphQL sees the ds.closed marker, and GraphQL
    // appends are refused from then on.
    await producer.close();
    await gql.until(() => gql.events.at(-1)?.type === "ds.closed", 10_000, "closing marker");
    const late = await s.gql(APPEND, { sessionId, payload: { late: true } }, bearer(key));
    expect(late.errors?.[0]?.extensions?.code).toBe("session_closed");
    const eof = await fetch(`${url}?offset=now`, { headers });
    expect(eof.headers.get("stream-closed")).toBe("true");
    gql.unsubscribe();
  });

  test("a binary stream's messages reach GraphQL as {content_type, base64}, and GraphQL events read back in DS order", async () => {
    const url = `${s.url}/v1/stream/bin/${Date.now()}`;
    const headers = { Authorization: `Bearer ${key}` };
    const stream = await DurableStream.create({ url, contentType: "application/octet-stream", headers });
    await stream.append(new Uint8Array([0, 1, 2, 255]));
    await stream.append(new Uint8Array([10, 13, 0]));
    const sessionId = (await fetch(url, { method: "HEAD", headers })).headers.get("starcite-session-id")!;

    const page = await s.gql<{ events: { events: { seq: number; type: string; payload: Record<string, unknown> }[] } }>(
      `query Q($id: ID!) { events(sessionId: $id) { events { seq type payload } } }`,
      { id: sessionId },
      bearer(key),
    );
    expect(page.data!.events.events).toEqual([
      {
        seq: 1,
        type: "ds.bytes",
        payload: { content_type: "application/octet-stream", base64: Buffer.from([0, 1, 2, 255]).toString("base64") },
      },
      {
        seq: 2,
        type: "ds.bytes",
        payload: { content_type: "application/octet-stream", base64: Buffer.from([10, 13, 0]).toString("base64") },
      },
    ]);
    const tail = collectTail(s.wsClient({ connectionParams: { authorization: `Bearer ${key}` } }), sessionId, 0);
    await tail.until(() => tail.events.length === 2, 10_000, "binary tail");
    expect(tail.events.map((e) => e.payload.base64)).toEqual(page.data!.events.events.map((e) => e.payload.base64));
    tail.unsubscribe();

    // An event appended through GraphQL reads, in a binary stream, as its payload's JSON text.
    await s.gql(APPEND, { sessionId, payload: { note: "hi" } }, bearer(key));
    const bytes = new Uint8Array(await (await stream.stream({ live: false })).body());
    expect([...bytes]).toEqual([0, 1, 2, 255, 10, 13, 0, ...Buffer.from('{"note":"hi"}')]);
  });
});
