/**
 * Bad input: each failure has its code (SQLSTATE through postgres.js, StarciteError.code through the TS
 * layer), a message starting with the code name, a JSON detail, and writes nothing.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { append, appendBatch, read } from "../../src/db/events.ts";
import { toStarciteError } from "../../src/db/errors.ts";
import { createSession, getSession, listSessions, updateSession } from "../../src/db/sessions.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createSessionSql, detailOf, pgError, starciteError } from "./_support.ts";

let db: TestDatabase;
let s: string;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

/** Every test starts with a session holding one event, and must leave the database exactly as it was. */
let before: { events: number; sessions: number; state: string };

async function snapshot() {
  const [row] = await db.sql<{ events: number; sessions: number; state: string }[]>`
    select (select count(*)::int from starcite.events) as events,
           (select count(*)::int from starcite.sessions) as sessions,
           (select string_agg(id || ':' || last_seq || ':' || version || ':' || updated_at, ',' order by id)
              from starcite.sessions) as state`;
  return row!;
}

beforeEach(async () => {
  s = await createSessionSql(db.sql);
  await append(db.sql, s, { payload: {} });
  before = await snapshot();
});

afterEach(async () => {
  expect(await snapshot()).toEqual(before);
});

describe("appends", () => {
  test("unknown session: session_not_found (SC100)", async () => {
    const e = await pgError(db.sql`select * from starcite.append('no-such-session', 'x', '{}')`, "SC100");
    expect(e.message).toBe("session_not_found: session no-such-session does not exist");
    expect(detailOf(e)).toMatchObject({ session_id: "no-such-session" });
    await pgError(db.sql`
      select * from starcite.append(session_id => 'no-such-session', type => 'x', payload => '{}'::jsonb,
                                    producer_id => 'p', producer_seq => 1)`, "SC100");
    const se = await starciteError(append(db.sql, "no-such-session", { payload: {} }), "session_not_found");
    expect(se.message).toBe("session no-such-session does not exist");
    expect(se.detail).toMatchObject({ session_id: "no-such-session" });
    // A malformed id is simply a session that does not exist.
    await starciteError(append(db.sql, "bad id with spaces", { payload: {} }), "session_not_found");
    await starciteError(appendBatch(db.sql, "no-such-session", [{ payload: {} }], true), "session_not_found");
    const outcomes = await appendBatch(db.sql, "no-such-session", [{ payload: {} }]);
    expect(outcomes.map((o) => !o.ok && o.error.code)).toEqual(["session_not_found"]);
  });

  test("empty, missing or overlong type: invalid_event (SC002)", async () => {
    for (const type of ["''", "null", `'${"t".repeat(129)}'`]) {
      const e = await pgError(db.sql.unsafe(`select * from starcite.append($1, ${type}, '{}')`, [s]), "SC002");
      expect(e.message).toMatch(/^invalid_event: type /);
      expect(detailOf(e)).toMatchObject({ field: "type", index: 0 });
    }
    await starciteError(append(db.sql, s, { type: "", payload: {} }), "invalid_event");
    await starciteError(appendBatch(db.sql, s, [{ type: "", payload: {} }], true), "invalid_event");
  });

  test("non-object payload: invalid_event (SC002)", async () => {
    for (const payload of ["[1,2]", '"text"', "42", "true", "null"]) {
      const e = await pgError(db.sql`select * from starcite.append(${s}, 'x', ${payload}::jsonb)`, "SC002");
      expect(e.message).toBe("invalid_event: payload must be a JSON object");
      expect(detailOf(e)).toMatchObject({ field: "payload" });
    }
    await pgError(db.sql`select * from starcite.append(${s}, 'x', null)`, "SC002");
    await starciteError(append(db.sql, s, { payload: [1, 2] as never }), "invalid_event");
  });

  test("payload over 262144 bytes: payload_too_large (SC003); exactly 262144 bytes is accepted", async () => {
    // {"x": "<n chars>"} renders as n + 9 bytes.
    const atLimit = { x: "a".repeat(262_144 - 9) };
    const over = { x: "a".repeat(262_144 - 8) };
    const e = await pgError(db.sql`select * from starcite.append(${s}, 'x', ${db.sql.json(over)}::jsonb)`, "SC003");
    expect(e.message).toMatch(/^payload_too_large: payload is 262145 bytes/);
    expect(detailOf(e)).toMatchObject({ field: "payload", limit: 262144, size: 262145 });
    const se = await starciteError(append(db.sql, s, { payload: { big: "x".repeat(300_000) } }), "payload_too_large");
    expect(se.detail).toMatchObject({ limit: 262144 });

    // The boundary itself is fine (in a rolled-back transaction, so that this test writes nothing).
    await expect(db.sql.begin(async (tx) => {
      const [r] = await tx`select * from starcite.append(${s}, 'x', ${tx.json(atLimit)}::jsonb)`;
      expect(r).toMatchObject({ seq: 2 });
      throw new Error("undo");
    })).rejects.toThrow("undo");
  });

  test("producer_id without producer_seq, and other malformed fields: invalid_event (SC002)", async () => {
    await pgError(db.sql`select * from starcite.append(${s}, 'x', '{}', producer_id => 'p')`, "SC002");
    await starciteError(append(db.sql, s, { payload: {}, producerId: "p" }), "invalid_event");
    await starciteError(append(db.sql, s, { payload: {}, producerSeq: 3 }), "invalid_event");

    const cases: [string, string][] = [
      ["metadata => '[1]'", "metadata"],
      ["refs => '\"x\"'", "refs"],
      ["idempotency_key => ''", "idempotency_key"],
      ["producer_id => '', producer_seq => 1", "producer_id"],
      ["producer_id => 'p', producer_seq => 0", "producer_seq"],
      ["producer_id => 'p', producer_seq => -4", "producer_seq"],
      ["expected_seq => -1", "expected_seq"],
      [`actor => '${"a".repeat(257)}'`, "actor"],
    ];
    for (const [args, field] of cases) {
      const e = await pgError(db.sql.unsafe(`select * from starcite.append($1, 'x', '{}', ${args})`, [s]), "SC002");
      expect(detailOf(e), args).toMatchObject({ field });
    }
    const [meta] = await db.sql`select * from starcite.append_batch(${s}, ${db.sql.json([
      { payload: {}, metadata: { big: "m".repeat(16_384) } }])}::jsonb)`;
    expect(meta).toMatchObject({ error_code: "payload_too_large" });
  });

  test("text Postgres cannot store (a NUL character) is rejected before the function runs: invalid_event", async () => {
    // jsonb refuses \u0000 while decoding the parameter (22P05); the TS layer reports it as the event's fault.
    await pgError(db.sql`select * from starcite.append(${s}, 'x', ${db.sql.json({ text: "nul\u0000byte" })}::jsonb)`, "22P05");
    await starciteError(append(db.sql, s, { payload: { text: "nul\u0000byte" } }), "invalid_event");
    await starciteError(appendBatch(db.sql, s, [{ payload: { ok: 1 } }, { payload: { "k\u0000": 1 } }]), "invalid_event");
  });
});

describe("reads", () => {
  test("negative after_seq or a limit out of 1..1000: invalid_argument (SC001)", async () => {
    const e = await pgError(db.sql`select * from starcite.read(${s}, -1, 10)`, "SC001");
    expect(e.message).toBe("invalid_argument: after_seq must be >= 0");
    expect(detailOf(e)).toEqual({ field: "after_seq" });
    await pgError(db.sql`select * from starcite.read(${s}, null, 10)`, "SC001");
    for (const limit of [0, -5, 1001]) {
      const le = await pgError(db.sql`select * from starcite.read(${s}, 0, ${limit})`, "SC001");
      expect(detailOf(le)).toEqual({ field: "limit", min: 1, max: 1000 });
    }
    await pgError(db.sql`select * from starcite.read(${s}, 0, null)`, "SC001");
    await starciteError(read(db.sql, s, -1), "invalid_argument");
    await starciteError(read(db.sql, s, 0, 0), "invalid_argument");
    await starciteError(read(db.sql, s, 0, 1001), "invalid_argument");
    await starciteError(read(db.sql, "no-such-session"), "session_not_found");
    expect(await read(db.sql, s, 0, 1000)).toHaveLength(1);
  });

  test("list_sessions limit out of 1..1000: invalid_argument (SC001)", async () => {
    await pgError(db.sql`select * from starcite.list_sessions(0)`, "SC001");
    await pgError(db.sql`select * from starcite.list_sessions(1001)`, "SC001");
    await starciteError(listSessions(db.sql, { limit: 0 }), "invalid_argument");
  });
});

describe("sessions", () => {
  test("create_session on a taken id: session_exists (SC101)", async () => {
    const e = await pgError(db.sql`select * from starcite.create_session(${s})`, "SC101");
    expect(e.message).toBe(`session_exists: session ${s} already exists`);
    expect(detailOf(e)).toEqual({ session_id: s });
    await starciteError(createSession(db.sql, { id: s, title: "again" }), "session_exists");
  });

  test("bad session id format: invalid_argument (SC001)", async () => {
    for (const id of ["", "has space", "-leading-dash", "_leading", "a/b", "ünïcode", "x".repeat(129)]) {
      const e = await pgError(db.sql`select * from starcite.create_session(${id})`, "SC001");
      expect(detailOf(e), JSON.stringify(id)).toEqual({ field: "id" });
      await starciteError(createSession(db.sql, { id }), "invalid_argument");
    }
  });

  test("bad title or metadata on create and update", async () => {
    await pgError(db.sql`select * from starcite.create_session('fine-id', ${"t".repeat(1001)})`, "SC001");
    await pgError(db.sql`select * from starcite.create_session('fine-id', null, '[]'::jsonb)`, "SC001");
    await pgError(db.sql`select * from starcite.create_session('fine-id', null, ${db.sql.json({ m: "x".repeat(65_536) })}::jsonb)`, "SC003");
    await starciteError(updateSession(db.sql, { id: s, title: "t".repeat(1001) }), "invalid_argument");
    await pgError(db.sql`select * from starcite.update_session(${s}, metadata => '"str"'::jsonb)`, "SC001");
    await starciteError(updateSession(db.sql, { id: "no-such-session", title: "x" }), "session_not_found");
    expect(await getSession(db.sql, "fine-id")).toBeNull();
  });
});

test("toStarciteError leaves unknown errors alone and maps connection failures", () => {
  const plain = new Error("boom");
  expect(toStarciteError(plain)).toBe(plain);
  expect(toStarciteError({ code: "ECONNREFUSED" })).toMatchObject({ code: "database_unavailable" });
  expect(toStarciteError({ code: "SC999", message: "x" })).toEqual({ code: "SC999", message: "x" });
});
