/**
 * Retention in SQL: policies per tenant and per session, trim_session's small batches, the bounds readers see
 * (cursor_expired instead of a silent gap), and what holds deletion back (the archive, webhook cursors).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { pgError, sid } from "./_support.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

async function sessionWith(events: number, tenant = "default"): Promise<string> {
  const id = sid("ret");
  await db.sql`select starcite.create_tenant(${tenant})`;
  await db.sql`select starcite.create_session(${id}, tenant_id => ${tenant})`;
  for (let i = 1; i <= events; i++) {
    await db.sql`select * from starcite.append(${id}, 'content', ${db.sql.json({ i })}::jsonb, producer_id => 'p', producer_seq => ${i}::bigint, tenant_id => ${tenant})`;
  }
  return id;
}

const seqs = async (id: string, after = 0, tenant = "default") =>
  (await db.sql<{ seq: number }[]>`select seq from starcite.read(${id}, ${after}, 1000, ${tenant})`).map((r) => r.seq);

describe("policies", () => {
  test("a session's own policy wins over its tenant's; clearing it falls back", async () => {
    const id = await sessionWith(0, "ret_t1");
    await db.sql`select starcite.set_retention(max_age => interval '7 days', tenant_id => 'ret_t1')`;
    await db.sql`select starcite.set_retention(max_events => 5, archive => true, session_id => ${id}, tenant_id => 'ret_t1')`;
    const [own] = await db.sql`select * from starcite.get_retention(${id}, 'ret_t1')`;
    expect(own).toMatchObject({ scope: "session", max_age: null, max_events: 5, archive: true });
    expect((await db.sql`select starcite.clear_retention(${id}, 'ret_t1') as c`)[0]!.c).toBe(true);
    const [tenant] = await db.sql`select scope, extract(epoch from max_age)::int as secs from starcite.get_retention(${id}, 'ret_t1')`;
    expect(tenant).toMatchObject({ scope: "tenant", secs: 7 * 86400 });
  });

  test("bad policies are coded errors", async () => {
    const e1 = await pgError(db.sql`select starcite.set_retention()`, "SC001");
    expect(e1.message).toMatch(/max_age and\/or max_events/);
    await pgError(db.sql`select starcite.set_retention(max_events => 0)`, "SC001");
    await pgError(db.sql`select starcite.set_retention(max_age => interval '-1 day')`, "SC001");
    await pgError(db.sql`select starcite.set_retention(max_events => 3, session_id => 'no_such_session')`, "SC100");
  });
});

describe("trim_session", () => {
  test("by count: deletes in batches of max_events, keeps the newest, and seq goes on after the deletes", async () => {
    const id = await sessionWith(10);
    await db.sql`select starcite.set_retention(max_events => 3, session_id => ${id})`;
    const first = await db.sql`select * from starcite.trim_session(${id}, 4)`;
    expect(first[0]).toMatchObject({ deleted: 4, first_seq: 5, more: true });
    const second = await db.sql`select * from starcite.trim_session(${id}, 4)`;
    expect(second[0]).toMatchObject({ deleted: 3, first_seq: 8, more: false });
    expect((await db.sql`select * from starcite.trim_session(${id}, 4)`)[0]).toMatchObject({ deleted: 0, first_seq: 8, more: false });
    expect(await seqs(id, 7)).toEqual([8, 9, 10]);
    const [next] = await db.sql`select * from starcite.append(${id}, 'content', '{"i": 11}', producer_id => 'p', producer_seq => 11)`;
    expect(next).toMatchObject({ seq: 11, deduped: false });
  });

  test("a cursor before the first kept event is cursor_expired with the earliest seq, never a silent gap", async () => {
    const id = await sessionWith(6);
    await db.sql`select starcite.set_retention(max_events => 2, session_id => ${id})`;
    await db.sql`select * from starcite.trim_session(${id}, 100)`;
    const error = await pgError(db.sql`select * from starcite.read(${id}, 0, 10)`, "SC105");
    expect(JSON.parse(error.detail!)).toMatchObject({ session_id: id, cursor: 0, earliest_seq: 5, retained_seq: 5 });
    await pgError(db.sql`select * from starcite.read(${id}, 3, 10)`, "SC105");
    expect(await seqs(id, 4)).toEqual([5, 6]);
    // The tails' JSON pages (read_json) refuse the same cursors, and page from the first kept event.
    const page = (from: number) => db.sql<{ events: string; n: number }[]>`
      select * from starcite.read_json(${id}, ${from}, 10, 65536, '{seq}', '{seq}')`;
    await pgError(page(0), "SC105");
    expect(JSON.parse((await page(4))[0]!.events)).toEqual([{ seq: 5 }, { seq: 6 }]);
  });

  test("by age: only events older than max_age go, oldest first", async () => {
    const id = await sessionWith(5);
    await db.sql`update starcite.events set inserted_at = now() - interval '2 hours' where session_id = ${id} and seq <= 3`;
    await db.sql`select starcite.set_retention(max_age => interval '1 hour', session_id => ${id})`;
    expect((await db.sql`select * from starcite.trim_session(${id}, 100)`)[0]).toMatchObject({ deleted: 3, first_seq: 4 });
    expect(await seqs(id, 3)).toEqual([4, 5]);
  });

  test("a producer retrying an event retention deleted gets producer_seq_conflict while later events of it remain", async () => {
    const id = await sessionWith(5);
    await db.sql`select starcite.set_retention(max_events => 2, session_id => ${id})`;
    await db.sql`select * from starcite.trim_session(${id}, 100)`;
    await pgError(db.sql`select * from starcite.append(${id}, 'content', '{"i": 1}', producer_id => 'p', producer_seq => 1)`, "SC201");
    // A retry of a kept event still dedupes.
    const [kept] = await db.sql`select * from starcite.append(${id}, 'content', '{"i": 5}', producer_id => 'p', producer_seq => 5)`;
    expect(kept).toMatchObject({ seq: 5, deduped: true });
  });

  test("with archive, nothing is deleted beyond what the archive holds", async () => {
    const id = await sessionWith(6);
    await db.sql`select starcite.set_retention(max_events => 1, archive => true, session_id => ${id})`;
    expect((await db.sql`select * from starcite.trim_session(${id}, 100)`)[0]).toMatchObject({ deleted: 0 });
    const [range] = await db.sql`select * from starcite.archive_range(${id}, 3)`;
    expect(range).toMatchObject({ from_seq: 1, to_seq: 3 });
    expect((await db.sql`select starcite.record_archive_segment(${id}, 1, 3, 'k1', 10) as r`)[0]!.r).toBe(true);
    expect((await db.sql`select starcite.record_archive_segment(${id}, 1, 3, 'k1', 10) as r`)[0]!.r).toBe(false);
    expect((await db.sql`select * from starcite.trim_session(${id}, 100)`)[0]).toMatchObject({ deleted: 3, first_seq: 4 });
    const error = await pgError(db.sql`select * from starcite.read(${id}, 0, 10)`, "SC105");
    expect(JSON.parse(error.detail!)).toMatchObject({ earliest_seq: 1, retained_seq: 4, archived_from: 1, archived_through: 3 });
    const [segment] = await db.sql`select object_key from starcite.archive_segment(${id}, 2)`;
    expect(segment!.object_key).toBe("k1");
  });

  test("nothing an enabled webhook endpoint has yet to deliver is deleted", async () => {
    await db.sql`select starcite.create_tenant('ret_wh')`;
    await db.sql`select * from starcite.create_webhook_endpoint('http://127.0.0.1:9/hook', tenant_id => 'ret_wh')`;
    const id = await sessionWith(5, "ret_wh");
    await db.sql`select starcite.set_retention(max_events => 1, session_id => ${id}, tenant_id => 'ret_wh')`;
    expect((await db.sql`select * from starcite.trim_session(${id}, 100)`)[0]).toMatchObject({ deleted: 0 });
    await db.sql`update starcite.webhook_endpoints set enabled = false where tenant_id = 'ret_wh'`;
    expect((await db.sql`select * from starcite.trim_session(${id}, 100)`)[0]).toMatchObject({ deleted: 4 });
  });

  test("retention_due lists sessions with something to delete, and not those without", async () => {
    const due = await sessionWith(4, "ret_due");
    const kept = await sessionWith(2, "ret_due");
    await db.sql`select starcite.set_retention(max_events => 2, tenant_id => 'ret_due')`;
    const ids = (
      await db.sql<{ session_id: string }[]>`select session_id from starcite.retention_due(1000) where tenant_id = 'ret_due'`
    ).map((r) => r.session_id);
    expect(ids).toContain(due);
    expect(ids).not.toContain(kept);
  });
});

describe("the lifecycle feed", () => {
  test("create, update, archive, unarchive and delete are recorded in commit order; appends are not changes", async () => {
    await db.sql`select starcite.create_tenant('life')`;
    const id = sid("life");
    await db.sql`select starcite.create_session(${id}, tenant_id => 'life')`;
    await db.sql`select * from starcite.append(${id}, 'content', '{}', tenant_id => 'life')`;
    await db.sql`select starcite.update_session(${id}, title => 't', tenant_id => 'life')`;
    await db.sql`select starcite.update_session(${id}, archived => true, tenant_id => 'life')`;
    await db.sql`select starcite.update_session(${id}, archived => false, tenant_id => 'life')`;
    await db.sql`select starcite.delete_session(${id}, 'life')`;
    const rows = await db.sql<
      { seq: number; kind: string; version: number }[]
    >`select seq, kind, version from starcite.read_changes(0, 100, 'life')`;
    expect(rows.map((r) => [r.seq, r.kind, r.version])).toEqual([
      [1, "created", 1],
      [2, "updated", 2],
      [3, "archived", 3],
      [4, "unarchived", 4],
      [5, "deleted", 4],
    ]);
    expect((await db.sql`select starcite.last_change_seq('life') as s`)[0]!.s).toBe(5);
    expect(await db.sql`select * from starcite.read_changes(5, 100, 'life')`).toHaveLength(0);
  });

  test("a rolled-back create leaves no gap in the tenant's change seqs", async () => {
    await db.sql`select starcite.create_tenant('life2')`;
    await db.sql`select starcite.create_session(${sid("a")}, tenant_id => 'life2')`;
    await db.sql
      .begin(async (tx) => {
        await tx`select starcite.create_session(${sid("b")}, tenant_id => 'life2')`;
        throw new Error("rollback");
      })
      .catch(() => {});
    await db.sql`select starcite.create_session(${sid("c")}, tenant_id => 'life2')`;
    const rows = await db.sql<{ seq: number }[]>`select seq from starcite.read_changes(0, 100, 'life2')`;
    expect(rows.map((r) => r.seq)).toEqual([1, 2]);
  });

  test("changes retention: expired changes go, and a cursor before them is cursor_expired", async () => {
    await db.sql`select starcite.create_tenant('life3')`;
    for (let i = 0; i < 3; i++) await db.sql`select starcite.create_session(${sid("x")}, tenant_id => 'life3')`;
    await db.sql`update starcite.session_changes set changed_at = now() - interval '2 days' where tenant_id = 'life3' and seq <= 2`;
    await db.sql`select starcite.set_retention(max_age => interval '1 day', tenant_id => 'life3')`;
    expect((await db.sql`select starcite.trim_changes('life3', 100) as n`)[0]!.n).toBe(2);
    const error = await pgError(db.sql`select * from starcite.read_changes(0, 10, 'life3')`, "SC105");
    expect(JSON.parse(error.detail!)).toMatchObject({ earliest_seq: 3 });
    expect((await db.sql`select seq from starcite.read_changes(2, 10, 'life3')`).map((r) => r.seq)).toEqual([3]);
  });
});
