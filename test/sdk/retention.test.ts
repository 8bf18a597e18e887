/**
 * A session handle keeps a bounded number of events (retainEvents, default 1000): a backend following a long
 * session does not grow without bound, and a listener added late still gets every event once, in order, the
 * older ones paged from the server.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { Starcite, type StarciteEvent } from "@starcite/sdk";
import { DEFAULT_RETAIN_EVENTS } from "../../src/sdk/session.ts";
import { startTestServer, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";
import { adminKey, until } from "./support.ts";

let s: TestServer;
let apiKey: string;

beforeAll(async () => {
  s = await startTestServer({ auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET } });
  apiKey = await adminKey(s.db, "default");
});
afterAll(async () => {
  await s?.close();
});

async function seed(sessionId: string, n: number): Promise<void> {
  await s.db.sql`select * from starcite.create_session(${sessionId})`;
  for (let i = 0; i < n; i += 500) {
    const batch = Array.from({ length: Math.min(500, n - i) }, (_, k) => ({ payload: { i: i + k } }));
    await s.db.sql`select * from starcite.append_batch(${sessionId}, ${s.db.sql.json(batch)}, true)`;
  }
}

test("by default a handle keeps the newest 1000 events however many it has seen", async () => {
  await seed("ses_retain_default", 2500);
  const starcite = new Starcite({ baseUrl: s.url, apiKey });
  const session = await starcite.session({ id: "ses_retain_default", cursor: 0 });
  const seen: number[] = [];
  session.on("event", (e) => seen.push(e.seq));
  await until(() => seen.length === 2500, 20_000, "all events");
  expect(seen).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
  expect(DEFAULT_RETAIN_EVENTS).toBe(1000);
  expect(session.events().map((e) => e.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => 1501 + i));
  expect(session.state().events).toHaveLength(1000);
  await session.close();
});

test("a listener added late gets the whole history once, in order: what the handle dropped is paged from the server", async () => {
  await seed("ses_retain_late", 1234);
  const starcite = new Starcite({ baseUrl: s.url, apiKey, retainEvents: 10 });
  const session = await starcite.session({ id: "ses_retain_late", cursor: 0 });
  const first: number[] = [];
  session.on("event", (e) => first.push(e.seq));
  await until(() => first.length === 1234, 20_000, "first listener");
  expect(session.events()).toHaveLength(10);

  // The late listener starts catching up while new events keep arriving live.
  const late: { seq: number; phase: string }[] = [];
  session.on("event", (e: StarciteEvent, { phase }) => late.push({ seq: e.seq, phase }));
  const more = Array.from({ length: 20 }, (_, i) => session.append({ payload: { more: i } }));
  await Promise.all(more);
  await until(() => late.length === 1254 && first.length === 1254, 20_000, "late listener");
  expect(late.map((x) => x.seq)).toEqual(Array.from({ length: 1254 }, (_, i) => i + 1));
  expect(first).toEqual(Array.from({ length: 1254 }, (_, i) => i + 1));
  expect(late.slice(0, 1234).every((x) => x.phase === "replay")).toBe(true);
  expect(session.events().length).toBeLessThanOrEqual(10);
  await session.close();
});

test("retainEvents: Infinity keeps everything (the old behaviour), 0 keeps nothing", async () => {
  await seed("ses_retain_opts", 30);
  const starcite = new Starcite({ baseUrl: s.url, apiKey });
  const all = await starcite.session({ id: "ses_retain_opts", cursor: 0, retainEvents: Infinity });
  const none = await starcite.session({ id: "ses_retain_opts", cursor: 0, retainEvents: 0 });
  const a: number[] = [];
  const b: number[] = [];
  all.on("event", (e) => a.push(e.seq));
  none.on("event", (e) => b.push(e.seq));
  await until(() => a.length === 30 && b.length === 30, 10_000, "both");
  expect(all.events()).toHaveLength(30);
  expect(none.events()).toHaveLength(0);
  const late: number[] = [];
  none.on("event", (e) => late.push(e.seq));
  await until(() => late.length === 30, 10_000, "late on retain 0");
  expect(late).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  await all.close();
  await none.close();
});
