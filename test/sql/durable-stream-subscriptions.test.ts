/**
 * Durable Streams subscriptions in SQL: glob patterns, links and cursors, and the wake state machine (generations,
 * leases, fencing, webhook retries) that lets several server processes share one subscription safely.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { detailOf, pgError, sid } from "./_support.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

interface WakeRow {
  subscription_id: string;
  type: string;
  generation: number;
  wake_id: string;
  holder: string | null;
  attempt: number;
  streams: { path: string; acked_seq: number; tail_seq: number; has_pending: boolean }[];
}

const prefix = () => sid("sub");

async function stream(path: string, json: unknown[] = []) {
  await db.sql`select * from starcite.ds_create(${path}, 'application/json', messages => ${JSON.stringify(json)}::text::jsonb)`;
}

async function post(path: string, json: unknown) {
  await db.sql`select * from starcite.ds_append(${path}, 'application/json', ${JSON.stringify(json)}::text::jsonb)`;
}

async function links(id: string) {
  return db.sql<{ path: string; link_type: string; acked_seq: number; tail_seq: number | null; has_pending: boolean }[]>`
    select path, link_type, acked_seq, tail_seq, has_pending from starcite.ds_link_tails('default', ${id})`;
}

const wake = async (id: string) => [...(await db.sql<WakeRow[]>`select * from starcite.ds_wake(${id}, 'default')`)];

describe("patterns and links", () => {
  test("globs: * is one segment (or part of one), ** any number of segments", async () => {
    const cases: [string, string, boolean][] = [
      ["events/*", "events/a", true],
      ["events/*", "events", false],
      ["events/*", "events/a/b", false],
      ["events/**", "events", true],
      ["events/**", "events/a/b", true],
      ["**/x", "x", true],
      ["**/x", "a/b/x", true],
      ["a/**/z", "a/z", true],
      ["a/**/z", "a/b/c/z", true],
      ["a/**/z", "a/b/c", false],
      ["sync-*", "sync-1", true],
      ["a.b/*", "a.b/c", true],
      ["a.b/*", "aXb/c", false],
      ["(x)/*", "(x)/y", true],
    ];
    for (const [pattern, path, match] of cases) {
      const [row] = await db.sql<{ m: boolean }[]>`select '/' || ${path} ~ starcite.ds_glob_regex(${pattern}) as m`;
      expect(row!.m, `${pattern} ~ ${path}`).toBe(match);
    }
  });

  test("a new subscription follows matching streams from their tails; later streams from their start", async () => {
    const p = prefix();
    await stream(`${p}/old`, [1, 2]);
    const [created] = await db.sql<{ c: boolean }[]>`
      select starcite.ds_subscribe(${p}, 'webhook', ${`${p}/*`}, webhook_url => 'https://hooks.example/x') as c`;
    expect(created!.c).toBe(true);
    expect(await links(p)).toEqual([{ path: `${p}/old`, link_type: "glob", acked_seq: 2, tail_seq: 2, has_pending: false }]);
    await stream(`${p}/new`, [1]);
    expect((await links(p)).find((l) => l.path === `${p}/new`)).toMatchObject({ acked_seq: 0, tail_seq: 1, has_pending: true });

    // Re-confirming needs the same configuration.
    const [again] = await db.sql<{ c: boolean }[]>`
      select starcite.ds_subscribe(${p}, 'webhook', ${`${p}/*`}, webhook_url => 'https://hooks.example/x') as c`;
    expect(again!.c).toBe(false);
    await pgError(db.sql`select starcite.ds_subscribe(${p}, 'webhook', ${`${p}/**`}, webhook_url => 'https://hooks.example/x')`, "SC411");
  });

  test("explicit links: to streams that do not exist yet, idempotent, and removable while a glob keeps following", async () => {
    const p = prefix();
    await db.sql`select starcite.ds_subscribe(${p}, 'pull-wake', ${`${p}/g/*`}, ${[`${p}/later`]}::text[], wake_stream => ${`${p}/wake`})`;
    expect(await links(p)).toEqual([{ path: `${p}/later`, link_type: "explicit", acked_seq: 0, tail_seq: null, has_pending: false }]);
    await stream(`${p}/later`, ["first"]);
    expect((await links(p))[0]).toMatchObject({ tail_seq: 1, has_pending: true });

    await stream(`${p}/g/one`);
    await db.sql`select starcite.ds_link_streams(${p}, ${[`${p}/g/one`, `${p}/g/one`]}::text[])`;
    expect((await links(p)).find((l) => l.path === `${p}/g/one`)!.link_type).toBe("explicit");
    await db.sql`select starcite.ds_unlink_stream(${p}, ${`${p}/g/one`})`;
    await db.sql`select starcite.ds_unlink_stream(${p}, ${`${p}/g/one`})`;
    expect((await links(p)).find((l) => l.path === `${p}/g/one`)!.link_type).toBe("glob");
    await db.sql`select starcite.ds_unlink_stream(${p}, ${`${p}/later`})`;
    expect((await links(p)).some((l) => l.path === `${p}/later`)).toBe(false);
    await pgError(db.sql`select starcite.ds_link_streams('no-such-sub', '{a}')`, "SC410");
  });

  test("bad configurations are invalid_argument", async () => {
    const p = prefix();
    for (const q of [
      db.sql`select starcite.ds_subscribe('bad/id', 'webhook', 'x/*', webhook_url => 'https://h.example')`,
      db.sql`select starcite.ds_subscribe(${p}, 'email', 'x/*')`,
      db.sql`select starcite.ds_subscribe(${p}, 'webhook')`,
      db.sql`select starcite.ds_subscribe(${p}, 'webhook', 'x/*')`,
      db.sql`select starcite.ds_subscribe(${p}, 'pull-wake', 'x/*')`,
      db.sql`select starcite.ds_subscribe(${p}, 'pull-wake', 'x/*', wake_stream => 'w', lease_ttl_ms => 10)`,
      db.sql`select starcite.ds_subscribe(${p}, 'pull-wake', '/x', wake_stream => 'w')`,
    ]) {
      await pgError(q, "SC001");
    }
  });
});

describe("wakes", () => {
  test("a webhook wake: one per generation while leased; done acks the snapshot; new work wakes it again", async () => {
    const p = prefix();
    await db.sql`select starcite.ds_subscribe(${p}, 'webhook', ${`${p}/*`}, webhook_url => 'https://hooks.example/x', lease_ttl_ms => 5000)`;
    await stream(`${p}/a`, [1]);
    const [w] = await wake(p);
    expect(w).toMatchObject({ type: "webhook", generation: 1, holder: "webhook", attempt: 1 });
    expect(w!.streams).toEqual([expect.objectContaining({ path: `${p}/a`, acked_seq: 0, tail_seq: 1, has_pending: true })]);
    expect(await wake(p)).toEqual([]);

    // The receiver answered {"done": true}: the snapshot is acked. An append after the snapshot wakes generation 2.
    await post(`${p}/a`, 2);
    const next = [...(await db.sql<WakeRow[]>`select * from starcite.ds_webhook_result(${p}, ${w!.wake_id}, 1, true, true, 'default')`)];
    expect(next).toHaveLength(1);
    expect(next[0]).toMatchObject({ generation: 2 });
    expect(next[0]!.streams[0]).toMatchObject({ acked_seq: 1, tail_seq: 2 });
    // A result for the old wake changes nothing.
    expect(await db.sql`select * from starcite.ds_webhook_result(${p}, ${w!.wake_id}, 1, true, true, 'default')`).toHaveLength(0);
  });

  test("webhook failures back off and are retried as the same wake; callbacks are fenced by wake and generation", async () => {
    const p = prefix();
    await db.sql`select starcite.ds_subscribe(${p}, 'webhook', ${`${p}/*`}, webhook_url => 'https://hooks.example/x', lease_ttl_ms => 5000)`;
    await stream(`${p}/a`, [1, 2]);
    const [w] = await wake(p);
    await db.sql`select * from starcite.ds_webhook_result(${p}, ${w!.wake_id}, 1, false, false, 'default')`;
    const [state] = await db.sql<{ attempts: number; wait: number; status: string }[]>`
      select attempts, extract(epoch from next_attempt_at - now())::float8 as wait,
             (starcite.ds_subscription(${p}))->>'status' as status
      from starcite.ds_subscriptions where id = ${p}`;
    expect(state!.attempts).toBe(1);
    expect(state!.wait).toBeGreaterThan(0.5);
    expect(state!.wait).toBeLessThan(1.5);
    expect(state!.status).toBe("failed");
    await db.sql`update starcite.ds_subscriptions set next_attempt_at = now() - interval '1 second' where id = ${p}`;
    expect(
      (await db.sql<{ id: string }[]>`select subscription_id as id from starcite.ds_due_subscriptions(1000)`).map((r) => r.id),
    ).toContain(p);
    const [retry] = await db.sql<WakeRow[]>`select * from starcite.ds_tick(${p}, 'default')`;
    expect(retry).toMatchObject({ wake_id: w!.wake_id, generation: 1, attempt: 2 });

    const stale = await pgError(db.sql`select * from starcite.ds_ack(${p}, 'w_other', 1, '[]', true, 'default')`, "SC412");
    expect(detailOf(stale)).toMatchObject({ generation: 1 });
    // An ack must name an offset of the linked stream (its own epoch, up to its tail).
    await pgError(
      db.sql`select * from starcite.ds_ack(${p}, ${w!.wake_id}, 1,
      ${db.sql.json([{ path: `${p}/a`, epoch: 0, seq: 1 }])}::jsonb, false, 'default')`,
      "SC001",
    );
    await pgError(
      db.sql`select * from starcite.ds_ack(${p}, ${w!.wake_id}, 1,
      ${db.sql.json([{ path: `${p}/unlinked`, epoch: 0, seq: 1 }])}::jsonb, false, 'default')`,
      "SC001",
    );
    const [tail] = await db.sql<{ epoch: number }[]>`select offset_epoch as epoch from starcite.ds_stream_tail('default', ${`${p}/a`})`;
    const [partial] = await db.sql<{ next_wake: boolean }[]>`
      select next_wake from starcite.ds_ack(${p}, ${w!.wake_id}, 1, ${db.sql.json([{ path: `${p}/a`, epoch: tail!.epoch, seq: 1 }])}::jsonb, true, 'default')`;
    expect(partial!.next_wake).toBe(true);
    expect((await links(p))[0]).toMatchObject({ acked_seq: 1, has_pending: true });
  });

  test("pull-wake: wake events in the wake stream, one claimer at a time, release wakes again, leases run out", async () => {
    const p = prefix();
    const wakePath = `${p}/wake`;
    await stream(wakePath);
    await db.sql`select starcite.ds_subscribe(${p}, 'pull-wake', ${`${p}/events/*`}, wake_stream => ${wakePath}, lease_ttl_ms => 5000)`;
    await stream(`${p}/events/a`, ["x"]);
    const [w] = await wake(p);
    expect(w).toMatchObject({ type: "pull-wake", generation: 1, holder: null });
    const wakeEvents = await db.sql<{ payload: Record<string, unknown> }[]>`
      select e.payload from starcite.events e join starcite.ds_streams d on d.session_id = e.session_id where d.path = ${wakePath}`;
    expect(wakeEvents.map((e) => e.payload)).toEqual([
      expect.objectContaining({ type: "wake", subscription_id: p, stream: `${p}/events/a`, generation: 1 }),
    ]);

    const [claimed] = await db.sql<WakeRow[]>`select * from starcite.ds_claim(${p}, 'worker-1')`;
    expect(claimed).toMatchObject({ wake_id: w!.wake_id, generation: 1, holder: "worker-1" });
    const busy = await pgError(db.sql`select * from starcite.ds_claim(${p}, 'worker-2')`, "SC413");
    expect(detailOf(busy)).toEqual({ current_holder: "worker-1", generation: 1 });

    const [again] = await db.sql<WakeRow[]>`select * from starcite.ds_release(${p}, ${w!.wake_id}, 1, 'default')`;
    expect(again).toMatchObject({ generation: 2 });
    await pgError(db.sql`select * from starcite.ds_release(${p}, ${w!.wake_id}, 1, 'default')`, "SC412");

    const [c2] = await db.sql<WakeRow[]>`select * from starcite.ds_claim(${p}, 'worker-2')`;
    expect(c2).toMatchObject({ generation: 2, holder: "worker-2" });
    // The lease runs out: the tick ends the wake and, work still pending, wakes generation 3 for the next claim.
    await db.sql`update starcite.ds_subscriptions set lease_until = now() - interval '1 second' where id = ${p}`;
    const [w3] = await db.sql<WakeRow[]>`select * from starcite.ds_tick(${p}, 'default')`;
    expect(w3).toMatchObject({ generation: 3 });
    await pgError(db.sql`select * from starcite.ds_ack(${p}, ${c2!.wake_id}, 2, '[]', true, 'default')`, "SC412");

    const [c3] = await db.sql<WakeRow[]>`select * from starcite.ds_claim(${p}, 'worker-1')`;
    const [done] = await db.sql<{ next_wake: boolean }[]>`
      select next_wake from starcite.ds_ack(${p}, ${c3!.wake_id}, 3,
        ${db.sql.json(c3!.streams.map((s) => ({ path: s.path, epoch: (s as unknown as { tail_epoch: number }).tail_epoch, seq: s.tail_seq })))}::jsonb,
        true, 'default')`;
    expect(done!.next_wake).toBe(false);
    await pgError(db.sql`select * from starcite.ds_claim(${p}, 'worker-1')`, "SC414");
  });

  test("wake candidates are the idle subscriptions following the advanced sessions", async () => {
    const p = prefix();
    await db.sql`select starcite.ds_subscribe(${p}, 'webhook', ${`${p}/*`}, webhook_url => 'https://hooks.example/x')`;
    await stream(`${p}/s`, [1]);
    const [{ session_id: session } = { session_id: "" }] = await db.sql<{ session_id: string }[]>`
      select session_id from starcite.ds_streams where path = ${`${p}/s`}`;
    const candidates = async () =>
      (
        await db.sql<{ subscription_id: string }[]>`
      select subscription_id from starcite.ds_wake_candidates(${[session]}::text[])`
      ).map((r) => r.subscription_id);
    expect(await candidates()).toEqual([p]);
    await wake(p);
    expect(await candidates()).toEqual([]);
    await db.sql`select starcite.ds_unsubscribe(${p})`;
    await pgError(db.sql`select starcite.ds_unsubscribe(${p})`, "SC410");
  });
});
