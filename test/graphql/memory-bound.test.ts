import { afterAll, beforeAll, expect, test } from "vitest";
import { collectTail, startTestServer, type TestServer } from "../helpers/server.ts";

/** With a tiny memory budget for the feeds' rings, subscribers still get everything; they page from the database instead. */
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ hub: { totalRingBytes: 4000, pageSize: 50 } });
});
afterAll(async () => {
  await s?.close();
});

test("rings bounded by a total budget: 20 followed sessions, every subscriber gapless", async () => {
  const sessions = Array.from({ length: 20 }, (_, i) => `ses_budget_${i}`);
  for (const id of sessions) await s.db.sql`select starcite.create_session(${id})`;
  const client = s.wsClient();
  const tails = sessions.flatMap((id) => [collectTail(client, id, 0), collectTail(client, id, 0)]);
  await Promise.all(tails.map((t) => t.until(() => t.batches.some((b) => b.live), 10_000, "live")));
  // Pages a subscriber read past the ring: from the database, or from another subscriber's read of the same page.
  const catchupReads = async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const count = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
    return (
      count(/starcite_event_reads_total\{source="catchup"\} (\d+)/) +
      count(/starcite_catchup_pages_total\{how="cache"\} (\d+)/) +
      count(/starcite_catchup_pages_total\{how="shared"\} (\d+)/)
    );
  };
  const before = await catchupReads();
  const filler = "y".repeat(400);
  for (let round = 0; round < 5; round++) {
    const items = sessions.flatMap((id) => Array.from({ length: 20 }, (_, k) => ({ session_id: id, payload: { round, k, filler } })));
    await s.db.sql`select * from starcite.append_items(${s.db.sql.json(items)}, true)`;
  }
  for (const t of tails) {
    await t.until(() => t.events.length >= 100, 20_000, "all");
    expect(t.events.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  }
  // The rings could not hold the rounds, so subscribers paged on their own.
  expect((await catchupReads()) - before).toBeGreaterThan(tails.length);
  for (const t of tails) t.unsubscribe();
});
