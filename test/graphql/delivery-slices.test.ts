import { afterAll, beforeAll, expect, test } from "vitest";
import { collectTail, startTestServer, type TestServer } from "../helpers/server.ts";

/**
 * A live read round yields to the event loop between feeds once it has run deliverySliceMs (src/live/hub.ts).
 * With a slice so short that it yields after nearly every feed, subscribers join and leave while rounds are half
 * delivered and sessions advance again mid-round: every subscriber that stays still gets each session's events
 * once, in order, with no gap.
 */
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ hub: { deliverySliceMs: 0.001 } });
});
afterAll(async () => {
  await s?.close();
});

test("rounds that yield between feeds: joiners, leavers and mid-round appends, every staying subscriber gapless", async () => {
  const sessions = Array.from({ length: 30 }, (_, i) => `ses_slices_${i}`);
  for (const id of sessions) await s.db.sql`select starcite.create_session(${id})`;
  const client = s.wsClient();
  const staying = sessions.flatMap((id) => [collectTail(client, id, 0), collectTail(client, id, 0)]);
  const leaving = sessions.map((id) => collectTail(client, id, 0));
  await Promise.all([...staying, ...leaving].map((t) => t.until(() => t.batches.some((b) => b.live), 10_000, "live")));
  const rounds = 8;
  const perRound = 5;
  const late: ReturnType<typeof collectTail>[] = [];
  // Rounds of appends to every session, not awaited one by one: the hub's read rounds overlap them.
  const appends: Promise<unknown>[] = [];
  for (let round = 0; round < rounds; round++) {
    const items = sessions.flatMap((id) => Array.from({ length: perRound }, (_, k) => ({ session_id: id, payload: { round, k } })));
    appends.push(s.db.sql`select * from starcite.append_items(${s.db.sql.json(items)}, true)`);
    if (round === 2) for (const t of leaving) t.unsubscribe();
    if (round === 4) for (const id of sessions) late.push(collectTail(client, id, 0));
  }
  await Promise.all(appends);
  const total = rounds * perRound;
  const expected = Array.from({ length: total }, (_, i) => i + 1);
  for (const t of [...staying, ...late]) {
    await t.until(() => t.events.length >= total, 20_000, "all");
    expect(t.errors).toEqual([]);
    expect(t.events.map((e) => e.seq)).toEqual(expected);
  }
  for (const t of [...staying, ...late]) t.unsubscribe();
});
