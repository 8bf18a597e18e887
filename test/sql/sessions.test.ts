/**
 * Reads (starcite.read cursor semantics) and the session functions: create/get/update/list, versions,
 * keyset paging, the archived filter, and tenant isolation through the starcite.tenant_id setting.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createPool } from "../../src/db/client.ts";
import { append, appendItems, read } from "../../src/db/events.ts";
import { createSession, getSession, listSessions, updateSession } from "../../src/db/sessions.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createSessionSql, detailOf, eventCount, pgError, starciteError } from "./_support.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

describe("starcite.read", () => {
  test("returns the events with seq > after_seq, in order, at most max_events", async () => {
    const s = await createSessionSql(db.sql);
    expect(await read(db.sql, s)).toEqual([]);
    await db.sql`select * from starcite.append_batch(${s}, ${db.sql.json(
      Array.from({ length: 25 }, (_, i) => ({ type: `t${i + 1}`, payload: { i: i + 1 } })),
    )}::jsonb)`;

    const rows = await db.sql<{ seq: number }[]>`select seq from starcite.read(${s}, 10, 5)`;
    expect(rows.map((r) => r.seq)).toEqual([11, 12, 13, 14, 15]);
    // Named arguments and defaults (after_seq 0, 100 events).
    expect((await db.sql`select * from starcite.read(session_id => ${s}, max_events => 3)`).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(await db.sql`select * from starcite.read(${s})`).toHaveLength(25);
    expect(await read(db.sql, s, 25)).toEqual([]);
    expect(await read(db.sql, s, 1000)).toEqual([]);

    // Paging from a cursor visits every event exactly once.
    const seen: number[] = [];
    let cursor = 0;
    for (;;) {
      const page = await read(db.sql, s, cursor, 7);
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(7);
      for (const e of page) {
        expect(e.payload).toEqual({ i: e.seq });
        expect(e.type).toBe(`t${e.seq}`);
        seen.push(e.seq);
      }
      cursor = page[page.length - 1]!.seq;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  test("reads only the requested session", async () => {
    const a = await createSessionSql(db.sql);
    const b = await createSessionSql(db.sql);
    await appendItems(db.sql, [
      { sessionId: a, payload: { s: "a" } },
      { sessionId: b, payload: { s: "b" } },
    ]);
    expect((await read(db.sql, a)).map((e) => [e.sessionId, e.seq, e.payload])).toEqual([[a, 1, { s: "a" }]]);
  });
});

describe("sessions", () => {
  test("create_session generates an id when none is given and stores title and metadata", async () => {
    const [row] = await db.sql<{ id: string; version: number; last_seq: number; tenant_id: string }[]>`
      select * from starcite.create_session(title => 'Chat', metadata => '{"owner":"u1"}')`;
    expect(row!.id).toMatch(/^ses_[A-Za-z0-9_-]{22}$/);
    expect(row).toMatchObject({ version: 1, last_seq: 0, tenant_id: "default", title: "Chat", metadata: { owner: "u1" }, archived: false });

    const created = await createSession(db.sql, { id: "my.session:1", title: null });
    expect(created).toMatchObject({ id: "my.session:1", title: null, metadata: {}, lastSeq: 0, version: 1, archived: false });
    expect(created.createdAt).toMatch(/Z$/);
    expect(await getSession(db.sql, "my.session:1")).toEqual(created);
    expect(await getSession(db.sql, "nope")).toBeNull();
    // Raw SQL get_session of a missing id is one all-null row (a composite-returning function).
    const [missing] = await db.sql`select * from starcite.get_session('nope')`;
    expect(missing!.id).toBeNull();
  });

  test("get_session reflects appends in last_seq", async () => {
    const s = await createSessionSql(db.sql);
    await append(db.sql, s, { payload: {} });
    await append(db.sql, s, { payload: {} });
    expect((await getSession(db.sql, s))!.lastSeq).toBe(2);
  });

  test("update_session bumps the version, leaves null fields unchanged, and checks expected_version", async () => {
    const created = await createSession(db.sql, { title: "first", metadata: { a: 1 } });
    const v2 = await updateSession(db.sql, { id: created.id, title: "second" });
    expect(v2).toMatchObject({ title: "second", metadata: { a: 1 }, version: 2, archived: false });
    expect(v2.updatedAt > created.updatedAt).toBe(true);
    expect(v2.createdAt).toBe(created.createdAt);

    const v3 = await updateSession(db.sql, { id: created.id, metadata: { b: 2 }, expectedVersion: 2 });
    expect(v3).toMatchObject({ title: "second", metadata: { b: 2 }, version: 3 });

    const e = await pgError(db.sql`select * from starcite.update_session(${created.id}, title => 'x', expected_version => 2)`, "SC102");
    expect(e.message).toMatch(/^version_conflict: /);
    expect(detailOf(e)).toEqual({ session_id: created.id, version: 3, expected_version: 2 });
    const se = await starciteError(updateSession(db.sql, { id: created.id, title: "x", expectedVersion: 1 }), "version_conflict");
    expect(se.detail).toMatchObject({ version: 3, expected_version: 1 });
    expect(await getSession(db.sql, created.id)).toEqual(v3);

    // A no-op update (all nulls) still bumps the version.
    expect((await updateSession(db.sql, { id: created.id })).version).toBe(4);
    // Appends do not change the version.
    await append(db.sql, created.id, { payload: {} });
    expect((await getSession(db.sql, created.id))!.version).toBe(4);
  });

  test("list_sessions: keyset paging by id with after_id, and the archived filter", async () => {
    // A database of its own, so that other tests' sessions do not show up.
    const own = await createTestDatabase();
    try {
      const ids = Array.from({ length: 12 }, (_, i) => `s-${String(i).padStart(2, "0")}`);
      for (const id of [...ids].reverse()) await createSession(own.sql, { id });
      for (const id of ["s-03", "s-07"]) await updateSession(own.sql, { id, archived: true });

      const active = ids.filter((id) => id !== "s-03" && id !== "s-07");
      const pages: string[][] = [];
      let after: string | null = null;
      for (;;) {
        const page = await listSessions(own.sql, { limit: 4, after });
        if (page.length === 0) break;
        pages.push(page.map((p) => p.id));
        after = page[page.length - 1]!.id;
      }
      expect(pages).toEqual([active.slice(0, 4), active.slice(4, 8), active.slice(8)]);

      const rows = await own.sql<{ id: string }[]>`select id from starcite.list_sessions(max_sessions => 3, after_id => 's-05')`;
      expect(rows.map((r) => r.id)).toEqual(["s-06", "s-08", "s-09"]);
      expect((await listSessions(own.sql, { archived: true })).map((r) => r.id)).toEqual(["s-03", "s-07"]);
      expect((await listSessions(own.sql, { archived: true, after: "s-03" })).map((r) => r.id)).toEqual(["s-07"]);
      expect((await listSessions(own.sql)).map((r) => r.id)).toEqual(active);

      // Unarchiving brings a session back into the default listing.
      const back = await updateSession(own.sql, { id: "s-03", archived: false });
      expect(back).toMatchObject({ archived: false, version: 3 });
      expect((await listSessions(own.sql, { limit: 3 })).map((r) => r.id)).toEqual(["s-00", "s-01", "s-02"]);
      expect((await listSessions(own.sql, { after: "s-02", limit: 1 })).map((r) => r.id)).toEqual(["s-03"]);
    } finally {
      await own.drop();
    }
  });
});

describe("tenancy", () => {
  test("sessions of another tenant are invisible: get, list, read, append and update", async () => {
    await db.sql`insert into starcite.tenants (id, name) values ('acme', 'Acme') on conflict do nothing`;
    const acmeSession = await db.sql.begin(async (tx) => {
      await tx`select set_config('starcite.tenant_id', 'acme', true)`;
      const [row] = await tx<{ id: string; tenant_id: string }[]>`select * from starcite.create_session()`;
      expect(row!.tenant_id).toBe("acme");
      await tx`select * from starcite.append(${row!.id}, 'x', '{}')`;
      expect(await tx`select * from starcite.read(${row!.id})`).toHaveLength(1);
      expect((await tx`select * from starcite.list_sessions()`).map((r) => r.id)).toEqual([row!.id]);
      return row!.id;
    });

    // The default tenant sees none of it.
    expect(await getSession(db.sql, acmeSession)).toBeNull();
    expect((await listSessions(db.sql, { limit: 1000 })).some((r) => r.id === acmeSession)).toBe(false);
    await starciteError(read(db.sql, acmeSession), "session_not_found");
    await starciteError(append(db.sql, acmeSession, { payload: {} }), "session_not_found");
    await starciteError(updateSession(db.sql, { id: acmeSession, title: "mine now" }), "session_not_found");
    expect(await eventCount(db.sql, acmeSession)).toBe(1);
  });

  test("append_items: an item only reaches a session of the tenant it is addressed to", async () => {
    await db.sql`insert into starcite.tenants (id, name) values ('globex', 'Globex') on conflict do nothing`;
    const theirs = await db.sql.begin(async (tx) => {
      await tx`select set_config('starcite.tenant_id', 'globex', true)`;
      const [row] = await tx<{ id: string }[]>`select * from starcite.create_session()`;
      return row!.id;
    });
    // The group-commit path addresses every item to its tenant. An item for the default tenant must not
    // land in globex's session just because another item in the same call locked it.
    const outcomes = await appendItems(db.sql, [
      { sessionId: theirs, tenantId: "globex", payload: { from: "globex" } },
      { sessionId: theirs, payload: { from: "default" } },
      { sessionId: theirs, tenantId: "default", payload: { from: "default" } },
    ]);
    expect(outcomes.map((o) => (o.ok ? o.result.seq : o.error.code))).toEqual([1, "session_not_found", "session_not_found"]);
    expect(await eventCount(db.sql, theirs)).toBe(1);
  });
});

describe("the tables' own rules, for SQL that bypasses the functions", () => {
  test("a session's id, title and metadata are checked on a raw insert or update, with coded errors; an id never changes", async () => {
    const e = await pgError(db.sql`insert into starcite.sessions (id) values ('has space')`, "SC001");
    expect(detailOf(e)).toEqual({ field: "id" });
    await pgError(db.sql`insert into starcite.sessions (id, title) values ('raw-title', ${"t".repeat(1001)})`, "SC001");
    const s = await createSessionSql(db.sql);
    await pgError(
      db.sql`update starcite.sessions set metadata = ${db.sql.json({ m: "x".repeat(65_536) })}::jsonb where id = ${s}`,
      "SC003",
    );
    const moved = await pgError(db.sql`update starcite.sessions set id = 'elsewhere' where id = ${s}`, "SC001");
    expect(moved.message).toBe("invalid_argument: a session id cannot change");
    // The counter update that every append makes is not re-checked (and is fine).
    await db.sql`update starcite.sessions set last_seq = last_seq where id = ${s}`;
  });

  test("an event needs its session, and a deleted session takes its events with it", async () => {
    await pgError(db.sql`insert into starcite.events (session_id, seq, type, payload) values ('no-such-session', 1, 'x', '{}')`, "23503");
    const s = await createSessionSql(db.sql);
    const keep = await createSessionSql(db.sql);
    await appendItems(db.sql, [
      { sessionId: s, payload: {} },
      { sessionId: s, payload: {} },
      { sessionId: keep, payload: {} },
    ]);
    // One statement with a good and a bad row is refused whole.
    await pgError(
      db.sql`insert into starcite.events (session_id, seq, type, payload)
                         values (${s}, 3, 'x', '{}'), ('no-such-session', 1, 'x', '{}')`,
      "23503",
    );
    expect(await eventCount(db.sql, s)).toBe(2);
    await db.sql`delete from starcite.sessions where id = ${s}`;
    expect(await eventCount(db.sql, s)).toBe(0);
    expect(await eventCount(db.sql, keep)).toBe(1);
  });

  test("an event's session cannot be deleted while the transaction that appended to it is open", async () => {
    const s = await createSessionSql(db.sql);
    const other = createPool(db.url, { max: 1, applicationName: "deleter" });
    try {
      await other`set lock_timeout = '300ms'`;
      await db.sql.begin(async (tx) => {
        await tx`insert into starcite.events (session_id, seq, type, payload) values (${s}, 1, 'x', '{}')`;
        // The foreign key's key-share lock makes a concurrent delete wait (and here, time out).
        await pgError(other`delete from starcite.sessions where id = ${s}`, "55P03");
      });
      expect(await eventCount(db.sql, s)).toBe(1);
    } finally {
      await other.end({ timeout: 5 });
    }
  });
});
