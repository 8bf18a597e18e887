import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { RunningServer } from "../../src/server/index.ts";
import { Starcite, type AppendResult } from "@starcite/sdk";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { freePort } from "../helpers/net.ts";
import { adminKey, startAuthServer, startProxy, until } from "./support.ts";

let db: TestDatabase;
let port: number;
let server: RunningServer | undefined;
let apiKey: string;

beforeAll(async () => {
  db = await createTestDatabase();
  port = await freePort();
  server = await startAuthServer(db, port);
  apiKey = await adminKey(db);
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

async function storedEvents(sessionId: string) {
  return db.sql<{ seq: number; payload: { i: number }; actor: string | null; producer_seq: number }[]>`
    select seq, payload, actor, producer_seq from starcite.events where session_id = ${sessionId} order by seq`;
}

describe("outbox", () => {
  for (const maxBatchSize of [1, 8]) {
    test(`the server stops mid-burst of 200 appends and restarts: exactly those 200 events, once each, in order (batch ${maxBatchSize})`, async () => {
      const sessionId = `ses_burst_${maxBatchSize}`;
      let failedRequests = 0;
      const starcite = new Starcite({
        baseUrl: `http://127.0.0.1:${port}/graphql`,
        apiKey,
        // The real fetch, counting requests that never got an answer.
        fetch: (url, init) =>
          fetch(url, init).catch((error: unknown) => {
            failedRequests++;
            throw error;
          }),
        maxBatchSize,
        retry: { baseDelayMs: 20, maxDelayMs: 300, maxAttempts: 200 },
      });
      const session = await starcite.session({ identity: starcite.agent({ id: "burst" }), id: sessionId });
      const settled: (AppendResult | Error)[] = [];
      const appends = Array.from({ length: 200 }, (_, i) =>
        session.append({ type: "step", payload: { i } }).then(
          (r) => (settled[i] = r),
          (e: Error) => (settled[i] = e),
        ),
      );

      // Stop the server once a quarter of the burst is confirmed; the rest waits and retries.
      await appends[49];
      await server!.close();
      server = undefined;
      expect(session.state().pendingAppends).toBeGreaterThan(100);
      await until(() => failedRequests > 0, 10_000, "a retry against the stopped server");
      server = await startAuthServer(db, port);
      await Promise.all(appends);

      expect(settled.filter((r) => r instanceof Error)).toEqual([]);
      const results = settled as AppendResult[];
      expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      const rows = await storedEvents(sessionId);
      expect(rows.map((r) => r.payload.i)).toEqual(Array.from({ length: 200 }, (_, i) => i));
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect(rows.map((r) => r.producer_seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect(new Set(rows.map((r) => r.actor))).toEqual(new Set(["agent:burst"]));
      await session.close();
    });
  }

  test("a session's tail carries on across a server restart: every event once, in order, events written while down replayed", async () => {
    const starcite = new Starcite({
      baseUrl: `http://127.0.0.1:${port}`,
      apiKey,
      retry: { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 200 },
      reconnect: { baseDelayMs: 20, maxDelayMs: 200 },
    });
    const writer = await starcite.session({ identity: starcite.agent({ id: "writer" }), id: "ses_restart_tail" });
    const reader = await starcite.session({ identity: starcite.user({ id: "reader" }), id: "ses_restart_tail" });
    const seen: { seq: number; phase: string }[] = [];
    const statuses: string[] = [];
    reader.on("event", (event, { phase }) => seen.push({ seq: event.seq, phase }));
    reader.on("status", (status) => statuses.push(status));
    for (let i = 0; i < 10; i++) await writer.append({ payload: { i } });
    await until(() => seen.length === 10, 10_000, "before the restart");

    await server!.close();
    server = undefined;
    await until(() => reader.state().status === "reconnecting", 10_000, "reader notices");
    const whileDown = Array.from({ length: 10 }, (_, i) => writer.append({ payload: { i: 10 + i } }));
    server = await startAuthServer(db, port);
    await Promise.all(whileDown);
    for (let i = 20; i < 30; i++) await writer.append({ payload: { i } });
    await until(() => seen.length === 30, 15_000, "after the restart");
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(reader.events().map((e) => (e.payload as { i: number }).i)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(statuses).toContain("reconnecting");
    expect(reader.state()).toMatchObject({ status: "live", cursor: 30, error: undefined });
    await Promise.all([writer.close(), reader.close()]);
  });

  test("a lost response is retried and deduplicated: one event, the original seq, deduped=true", async () => {
    const proxy = await startProxy(port);
    try {
      const starcite = new Starcite({ baseUrl: proxy.url, apiKey, retry: { baseDelayMs: 10, maxDelayMs: 50 } });
      const session = await starcite.session({ identity: starcite.user({ id: "alice" }), id: "ses_lost" });
      expect(await session.append({ text: "before" })).toEqual({ seq: 1, deduped: false, lastSeq: 1 });
      proxy.dropNextResponse();
      const result = await session.append({ text: "answer lost once" });
      expect(result).toEqual({ seq: 2, deduped: true, lastSeq: 2 });
      expect(await session.append({ text: "after" })).toEqual({ seq: 3, deduped: false, lastSeq: 3 });
      const rows = await db.sql<{ seq: number; payload: { text: string } }[]>`
        select seq, payload from starcite.events where session_id = 'ses_lost' order by seq`;
      expect(rows.map((r) => [r.seq, r.payload.text])).toEqual([
        [1, "before"],
        [2, "answer lost once"],
        [3, "after"],
      ]);
      await session.close();
    } finally {
      await proxy.close();
    }
  });

  test("after retries run out (outcome unknown), the next append continues the producer's run where the server has it", async () => {
    const proxy = await startProxy(port);
    try {
      const starcite = new Starcite({ baseUrl: proxy.url, apiKey, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 } });
      const session = await starcite.session({ identity: starcite.agent({ id: "flaky" }), id: "ses_gap" });
      expect(await session.append({ text: "one" })).toMatchObject({ seq: 1 });
      // Nothing gets through: the append fails for good, and the SDK cannot know whether it was written.
      proxy.refuse(true);
      proxy.dropAll();
      await expect(session.append({ text: "lost" })).rejects.toMatchObject({ code: "network_error", retryable: true });
      proxy.refuse(false);
      // It was not written, so producer seq 2 is still free on the server: the next append takes it.
      expect(await session.append({ text: "three" })).toMatchObject({ seq: 2, deduped: false });
      const rows = await db.sql<{ payload: { text: string }; producer_seq: number }[]>`
        select payload, producer_seq from starcite.events where session_id = 'ses_gap' order by seq`;
      expect(rows.map((r) => [r.payload.text, r.producer_seq])).toEqual([
        ["one", 1],
        ["three", 2],
      ]);
      await session.close();
    } finally {
      await proxy.close();
    }
  });

  test("a refused event rejects with its code; the events around it still land, in order", async () => {
    const starcite = new Starcite({ baseUrl: `http://127.0.0.1:${port}`, apiKey, maxBatchSize: 50 });
    const session = await starcite.session({ identity: starcite.agent({ id: "drafter" }), id: "ses_refused" });
    const results = await Promise.allSettled([
      session.append({ text: "one" }),
      session.append({ text: "two" }),
      session.append({ type: "", payload: { bad: true } }),
      session.append({ text: "four", expectedSeq: 2 }),
      session.append({ text: "five", expectedSeq: 99 }),
      session.append({ text: "six" }),
    ]);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value.seq : (r.reason as { code: string }).code))).toEqual([
      1,
      2,
      "invalid_event",
      3,
      "expected_seq_conflict",
      4,
    ]);
    const rejected = results[2] as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ name: "StarciteError", code: "invalid_event", retryable: false });
    const rows = await db.sql<
      { payload: { text: string } }[]
    >`select payload from starcite.events where session_id = 'ses_refused' order by seq`;
    expect(rows.map((r) => r.payload.text)).toEqual(["one", "two", "four", "six"]);
    await session.close();
  });

  test("appends to a missing session reject with session_not_found; close() rejects what is still queued", async () => {
    const starcite = new Starcite({ baseUrl: `http://127.0.0.1:${port}`, apiKey });
    const session = await starcite.session({ id: "ses_gone_soon" });
    await db.sql`delete from starcite.sessions where id = 'ses_gone_soon'`;
    await expect(session.append({ text: "x" })).rejects.toMatchObject({ code: "session_not_found" });

    const down = new Starcite({ baseUrl: `http://127.0.0.1:${await freePort()}`, apiKey, retry: { baseDelayMs: 10, maxDelayMs: 20 } });
    const orphan = await down.session({
      token: (await starcite.createSessionToken({ sessionId: "ses_refused", principal: { type: "agent", id: "a" } })).token,
    });
    const pending = orphan.append({ text: "never sent" });
    await until(() => orphan.state().pendingAppends === 1);
    await orphan.close();
    await expect(pending).rejects.toMatchObject({ code: "closed" });
  });
});
