/**
 * Bad input: each failure has its code (SQLSTATE through postgres.js, StarciteError.code through the TS
 * layer), a message starting with the code name, a JSON detail, and writes nothing.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { append, appendBatch, appendItems, read } from "../../src/db/events.ts";
import { createPool } from "../../src/db/client.ts";
import { mapWriteErrors, toStarciteError, unavailableCause } from "../../src/db/errors.ts";
import { createSession, getSession, listSessions, updateSession } from "../../src/db/sessions.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { freePort } from "../helpers/net.ts";
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
    await pgError(
      db.sql`
      select * from starcite.append(session_id => 'no-such-session', type => 'x', payload => '{}'::jsonb,
                                    producer_id => 'p', producer_seq => 1)`,
      "SC100",
    );
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
    await expect(
      db.sql.begin(async (tx) => {
        const [r] = await tx`select * from starcite.append(${s}, 'x', ${tx.json(atLimit)}::jsonb)`;
        expect(r).toMatchObject({ seq: 2 });
        throw new Error("undo");
      }),
    ).rejects.toThrow("undo");
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
      { payload: {}, metadata: { big: "m".repeat(16_384) } },
    ])}::jsonb)`;
    expect(meta).toMatchObject({ error_code: "payload_too_large" });
  });

  test("text Postgres cannot store (a NUL character) is rejected before the function runs: invalid_event", async () => {
    // jsonb refuses \u0000 while decoding the parameter (22P05); the TS layer reports it as the event's fault.
    await pgError(db.sql`select * from starcite.append(${s}, 'x', ${db.sql.json({ text: "nul\u0000byte" })}::jsonb)`, "22P05");
    await starciteError(append(db.sql, s, { payload: { text: "nul\u0000byte" } }), "invalid_event");
    await starciteError(appendBatch(db.sql, s, [{ payload: { ok: 1 } }, { payload: { "k\u0000": 1 } }]), "invalid_event");
  });

  test("a lone UTF-16 surrogate is invalid_event on every path, never internal_error or a silent U+FFFD", async () => {
    // In JSON, Postgres refuses it while decoding the parameter (22P02 "invalid input syntax for type json").
    const raw = await pgError(db.sql`select * from starcite.append(${s}, 'x', ${db.sql.json({ text: "half \ud800" })}::jsonb)`, "22P02");
    expect(raw.detail).toMatch(/surrogate/i);
    // The direct path, through the data layer: in JSON fields and in text fields alike.
    await starciteError(append(db.sql, s, { payload: { text: "\ud800" } }), "invalid_event");
    await starciteError(append(db.sql, s, { payload: {}, metadata: { m: "\udc00" } }), "invalid_event");
    await starciteError(append(db.sql, s, { payload: {}, refs: ["\ud800"] }), "invalid_event");
    await starciteError(append(db.sql, s, { payload: {}, actor: "agent:\ud800" }), "invalid_event");
    await starciteError(append(db.sql, s, { payload: {}, type: "t\udfff" }), "invalid_event");
    // The engine: the whole call's JSON is refused, so the server isolates the culprit (test/graphql/hostile-text).
    await starciteError(appendItems(db.sql, [{ sessionId: s, payload: {}, actor: "agent:\ud800" }]), "invalid_event");
    await starciteError(appendBatch(db.sql, s, [{ payload: { ok: 1 } }, { payload: {}, source: "\ud800" }]), "invalid_event");
    // A well-formed pair is an ordinary character (rolled back, so that this test writes nothing).
    await expect(
      db.sql.begin(async (tx) => {
        expect(await append(tx as never, s, { payload: { emoji: "\ud83d\ude00" }, actor: "agent:\ud83d\ude00" })).toMatchObject({ seq: 2 });
        throw new Error("undo");
      }),
    ).rejects.toThrow("undo");
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
    // read_text runs the same checks, before any row (its LIMIT would otherwise end a 0-event page unchecked).
    for (const [after, limit] of [
      [-1, 10],
      [0, 0],
      [0, -5],
      [0, 1001],
    ] as const) {
      await pgError(db.sql`select * from starcite.read_text(${s}, ${after}, ${limit})`, "SC001");
    }
    await pgError(db.sql`select * from starcite.read_text(${"no-such-session"}, 0, 10)`, "SC100");
    await starciteError(read(db.sql, s, -1), "invalid_argument");
    await starciteError(read(db.sql, s, 0, 0), "invalid_argument");
    await starciteError(read(db.sql, s, 0, 1001), "invalid_argument");
    await starciteError(read(db.sql, "no-such-session"), "session_not_found");
    expect(await read(db.sql, s, 0, 1000)).toHaveLength(1);
  });

  test("read, read_text and read_many are inlined into the caller's query: rows stream from the index, no function scan", async () => {
    // A PL/pgSQL body (or anything else that stops the planner inlining them) copies each page into a tuplestore
    // first: about half of Postgres's CPU per event while the server catches readers up (bench/README.md).
    const calls = {
      read: [`starcite.read($1, 0, 10)`, [s]],
      read_text: [`starcite.read_text($1, 0, 10)`, [s]],
      read_many: [`starcite.read_many($1::text[], '{0}', '{10}')`, [[s]]],
    } as const;
    for (const [fn, [call, args]] of Object.entries(calls)) {
      const plan = (await db.sql.unsafe(`explain select * from ${call}`, args as never)).map((r) => r["QUERY PLAN"]);
      expect(plan.join("\n"), fn).not.toMatch(new RegExp(`Function Scan on ${fn}\\b`));
      expect(plan.join("\n"), fn).toMatch(/One-Time Filter/);
    }
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
    await pgError(
      db.sql`select * from starcite.create_session('fine-id', null, ${db.sql.json({ m: "x".repeat(65_536) })}::jsonb)`,
      "SC003",
    );
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

test("a write whose connection could not be opened is tried again; one that may have reached the database is not", async () => {
  const failing = (code: string, times: number) => {
    let calls = 0;
    const fn = async () => {
      calls++;
      if (calls <= times) throw Object.assign(new Error(code), { code });
      return "written";
    };
    return { fn, calls: () => calls };
  };
  for (const code of ["ECONNREFUSED", "CONNECT_TIMEOUT", "57P03"]) {
    const once = failing(code, 1);
    await expect(mapWriteErrors(once.fn)).resolves.toBe("written");
    expect(once.calls()).toBe(2);
    const always = failing(code, 10);
    const error = await mapWriteErrors(always.fn).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "database_unavailable" });
    expect(unavailableCause(error)).toBe(code);
    expect(always.calls()).toBe(3);
  }
  for (const code of ["ECONNRESET", "CONNECTION_CLOSED", "57P01", "SC100"]) {
    const once = failing(code, 1);
    await expect(mapWriteErrors(once.fn)).rejects.toBeInstanceOf(Error);
    expect(once.calls(), code).toBe(1);
  }
});

test("an append to a database that is not there: database_unavailable with the driver's reason kept for the log", async () => {
  const url = new URL(db.url);
  url.port = String(await freePort());
  const nowhere = createPool(url.toString(), { max: 1, fetchTypes: false });
  try {
    const error = await append(nowhere, s, { payload: {} }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "database_unavailable", message: "the database is not reachable", detail: {} });
    expect(unavailableCause(error)).toBe("ECONNREFUSED");
  } finally {
    await nowhere.end({ timeout: 1 });
  }
});

describe("one validator for every path", () => {
  /**
   * Events as SQL expressions (limits read from starcite.limit_value, so the boundaries follow the one
   * definition), each with the field it is wrong in, or null when it sits exactly at a limit and is fine.
   */
  const L = (name: string) => `starcite.limit_value('${name}')::int`;
  const cases: [string, Record<string, string>, string | null][] = [
    ["empty type", { type: "''" }, "type"],
    ["type over the limit", { type: `repeat('t', ${L("event_type_chars")} + 1)` }, "type"],
    ["type at the limit", { type: `repeat('t', ${L("event_type_chars")})` }, null],
    ["array payload", { payload: "'[1]'::jsonb" }, "payload"],
    ["missing payload", { payload: "null::jsonb" }, "payload"],
    ["payload over the limit", { payload: `jsonb_build_object('x', repeat('a', ${L("event_payload_bytes")} - 8))` }, "payload"],
    ["payload at the limit", { payload: `jsonb_build_object('x', repeat('a', ${L("event_payload_bytes")} - 9))` }, null],
    ["array metadata", { metadata: "'[1]'::jsonb" }, "metadata"],
    ["metadata over the limit", { metadata: `jsonb_build_object('m', repeat('m', ${L("event_metadata_bytes")}))` }, "metadata"],
    ["string refs", { refs: `'"x"'::jsonb` }, "refs"],
    ["refs over the limit", { refs: `jsonb_build_array(repeat('r', ${L("event_refs_bytes")}))` }, "refs"],
    ["actor over the limit", { actor: `repeat('a', ${L("event_actor_chars")} + 1)` }, "actor"],
    ["actor at the limit", { actor: `repeat('a', ${L("event_actor_chars")})` }, null],
    ["source over the limit", { source: `repeat('s', ${L("event_source_chars")} + 1)` }, "source"],
    ["empty idempotency_key", { idempotency_key: "''" }, "idempotency_key"],
    ["idempotency_key over the limit", { idempotency_key: `repeat('k', ${L("idempotency_key_chars")} + 1)` }, "idempotency_key"],
    ["empty producer_id", { producer_id: "''", producer_seq: "1::bigint" }, "producer_id"],
    ["producer_id over the limit", { producer_id: `repeat('p', ${L("producer_id_chars")} + 1)`, producer_seq: "1::bigint" }, "producer_id"],
    ["producer_seq 0", { producer_id: "'p'", producer_seq: "0::bigint" }, "producer_seq"],
    ["producer_id alone", { producer_id: "'p'" }, "producer_seq"],
    ["producer_seq alone", { producer_seq: "1::bigint" }, "producer_id"],
    ["negative expected_seq", { expected_seq: "(-1)::bigint" }, "expected_seq"],
  ];
  const FIELDS = [
    "type",
    "payload",
    "actor",
    "source",
    "metadata",
    "refs",
    "idempotency_key",
    "producer_id",
    "producer_seq",
    "expected_seq",
  ];
  const DEFAULTS: Record<string, string> = { type: "'x'", payload: "'{}'::jsonb" };
  const valueOf = (event: Record<string, string>, f: string) => event[f] ?? DEFAULTS[f] ?? "null";

  interface Answer {
    code: string | null;
    message: string | null;
    detail: Record<string, unknown>;
  }

  /** starcite.append: its direct path checks the event before anything else. */
  async function direct(event: Record<string, string>): Promise<Answer> {
    const args = FIELDS.map((f) => `${f} => ${valueOf(event, f)}`).join(", ");
    return db.sql
      .begin(async (tx) => {
        const answer = await tx.unsafe(`select * from starcite.append(session_id => $1, ${args})`, [s]).then(
          () => ({ code: null, message: null, detail: {} }),
          (e: { code: string; message: string; detail?: string }) => ({
            code: e.code,
            message: e.message,
            detail: JSON.parse(e.detail ?? "{}"),
          }),
        );
        throw new Rollback(answer);
      })
      .catch((e: unknown) => rolledBack<Answer>(e));
  }

  /** starcite.append_items, with the same values as JSON: the engine decodes and checks them itself. */
  async function engine(event: Record<string, string>): Promise<Answer> {
    const pairs = FIELDS.map((f) => `'${f}', ${valueOf(event, f)}`).join(", ");
    return db.sql
      .begin(async (tx) => {
        const [row] = await tx.unsafe<
          { error_code: string | null; error_message: string | null; error_detail: Record<string, unknown> | null }[]
        >(`select * from starcite.append_items(jsonb_build_array(jsonb_build_object('session_id', $1::text, ${pairs})))`, [s]);
        throw new Rollback({ code: row!.error_code, message: row!.error_message, detail: row!.error_detail ?? {} });
      })
      .catch((e: unknown) => rolledBack<Answer>(e));
  }

  const SQLSTATE: Record<string, string> = { invalid_event: "SC002", payload_too_large: "SC003" };

  test.each(cases)("%s: the same code, message and detail from append's direct path and from the engine", async (_, event, field) => {
    const [d, e] = [await direct(event), await engine(event)];
    if (field === null) {
      expect(d.code, d.message ?? "").toBeNull();
      expect(e.code, e.message ?? "").toBeNull();
      return;
    }
    expect(e.detail).toMatchObject({ field });
    expect(d).toEqual({ code: SQLSTATE[e.code!], message: e.message, detail: { ...e.detail, index: 0 } });
  });
});

class Rollback extends Error {
  constructor(readonly value: unknown) {
    super("rollback");
  }
}

function rolledBack<T>(e: unknown): T {
  if (e instanceof Rollback) return e.value as T;
  throw e;
}
