/**
 * The Durable Streams SQL functions (db/functions/ds_*.sql): a stream path is a session, its messages are events,
 * and creation, appends (JSON flattening, binary bodies, idempotent producers, Stream-Seq, closing), expiry,
 * deletion and forks are decided here, so that every server process agrees. Raw SQL: SQLSTATE + JSON detail.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { append } from "../../src/db/events.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { detailOf, pgError, sid, starciteError } from "./_support.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

interface State {
  session_id: string;
  offset_epoch: number;
  content_type: string;
  ttl_seconds: number | null;
  expires_at: string | null;
  tail_seq: number;
  closed: boolean;
}

const path = (prefix = "p") => `${prefix}/${sid("ds")}`;

async function create(
  p: string,
  opts: {
    ct?: string;
    json?: unknown;
    body?: Buffer;
    closed?: boolean;
    ttl?: number;
    fork?: string;
    forkEpoch?: number;
    forkSeq?: number;
    sub?: number;
  } = {},
) {
  const [row] = await db.sql<{ created: boolean; state: State }[]>`
    select created, to_jsonb(state) as state from starcite.ds_create(
      path => ${p}, content_type => ${opts.ct ?? null}, ttl_seconds => ${opts.ttl ?? null}::bigint,
      closed => ${opts.closed ?? false},
      messages => ${opts.json === undefined ? null : JSON.stringify(opts.json)}::text::jsonb, body => ${opts.body ?? null}::bytea,
      fork_path => ${opts.fork ?? null}, fork_epoch => ${opts.forkEpoch ?? null}::bigint,
      fork_seq => ${opts.forkSeq ?? null}::bigint, fork_sub_offset => ${opts.sub ?? 0}::bigint)`;
  return row!;
}

async function post(
  p: string,
  opts: { ct?: string; json?: unknown; body?: Buffer; close?: boolean; streamSeq?: string; producer?: [string, number, number] } = {},
) {
  const [row] = await db.sql<{ outcome: string; state: State; epoch: number | null; last_producer_seq: number | null }[]>`
    select outcome, to_jsonb(state) as state, epoch, last_producer_seq from starcite.ds_append(
      path => ${p}, content_type => ${opts.ct ?? (opts.json !== undefined ? "application/json" : "application/octet-stream")},
      messages => ${opts.json === undefined ? null : JSON.stringify(opts.json)}::text::jsonb, body => ${opts.body ?? null}::bytea,
      stream_seq => ${opts.streamSeq ?? null}, producer_id => ${opts.producer?.[0] ?? null},
      producer_epoch => ${opts.producer?.[1] ?? null}::bigint, producer_seq => ${opts.producer?.[2] ?? null}::bigint,
      close => ${opts.close ?? false})`;
  return row!;
}

async function events(sessionId: string) {
  return db.sql<{ seq: number; type: string; payload: Record<string, unknown>; body: Buffer | null }[]>`
    select seq, type, payload, body from starcite.events where session_id = ${sessionId} order by seq`;
}

const bytes = (s: string) => Buffer.from(s);

describe("paths and sessions", () => {
  test("a path maps to the session ds:<escaped path>; the escaping is injective and keeps ids valid", async () => {
    const ids = await db.sql<{ id: string }[]>`
      select starcite.ds_session_id(p, 1) as id
      from unnest(array['chat/room-1.x', 'chat:room', 'chat_room', 'a/b', 'a:b', 'a_3Ab', 'ü/€', 'x y']) p`;
    expect(ids.map((r) => r.id)).toEqual([
      "ds:chat:room-1.x",
      "ds:chat_3Aroom",
      "ds:chat_5Froom",
      "ds:a:b",
      "ds:a_3Ab",
      "ds:a_5F3Ab",
      "ds:_C3_BC:_E2_82_AC",
      "ds:x_20y",
    ]);
    const [second] = await db.sql<{ id: string }[]>`select starcite.ds_session_id('chat/room_1', 2) as id`;
    expect(second!.id).toBe("ds:chat:room_5F1__2");
  });

  test("invalid paths are invalid_argument", async () => {
    for (const bad of ["", "/a", "a/", "a//b", "a/../b", "./a", "__ds/x", "a\u0001b", "x".repeat(120)]) {
      await pgError(db.sql`select starcite.ds_check_path(${bad})`, "SC001");
    }
    await db.sql`select starcite.ds_check_path(${"x".repeat(117)})`;
  });

  test("create makes the session (titled with the path) and confirms a repeat with the same configuration", async () => {
    const p = path();
    const first = await create(p, { ct: "text/plain", ttl: 3600 });
    expect(first.created).toBe(true);
    expect(first.state).toMatchObject({ content_type: "text/plain", ttl_seconds: 3600, tail_seq: 0, closed: false });
    const [session] = await db.sql<{ id: string; title: string; last_seq: number }[]>`
      select id, title, last_seq from starcite.sessions where id = ${first.state.session_id}`;
    expect(session).toEqual({ id: `ds:${p.replace("/", ":").replace(/_/g, "_5F")}`, title: p, last_seq: 0 });

    expect((await create(p, { ct: "TEXT/PLAIN; charset=utf-8", ttl: 3600 })).created).toBe(false);
    await pgError(db.sql`select * from starcite.ds_create(${p}, 'application/json', 3600)`, "SC400");
    await pgError(db.sql`select * from starcite.ds_create(${p}, 'text/plain', 60)`, "SC400");
    await pgError(db.sql`select * from starcite.ds_create(${p}, 'text/plain')`, "SC400");
    await pgError(db.sql`select * from starcite.ds_create(${p}, 'text/plain', 3600, closed => true)`, "SC400");
  });

  test("another tenant cannot see or take a path", async () => {
    const p = path();
    await create(p, { ct: "text/plain" });
    await db.sql`select starcite.create_tenant('ds_other')`;
    await pgError(db.sql`select * from starcite.ds_resolve(${p}, tenant_id => 'ds_other')`, "SC100");
    await pgError(db.sql`select * from starcite.ds_create(${p}, 'text/plain', tenant_id => 'ds_other')`, "SC400");
    await pgError(db.sql`select * from starcite.ds_append(${p}, 'text/plain', body => '\\x01', tenant_id => 'ds_other')`, "SC100");
  });

  test("a path another tenant deleted is free, and while that tenant's forks hold it, it is only 'taken'", async () => {
    await db.sql`select starcite.create_tenant('ds_third')`;
    const src = path();
    const fork = path();
    await create(src, { ct: "text/plain" });
    await create(fork, { fork: src });
    await db.sql`select starcite.ds_delete(${src})`;
    const held = await pgError(db.sql`select * from starcite.ds_create(${src}, 'text/plain', tenant_id => 'ds_third')`, "SC400");
    expect(held.message).toBe(`stream_conflict: stream path ${src} is taken`);
    await db.sql`select starcite.ds_delete(${fork})`;
    const [row] = await db.sql<{ created: boolean; session_id: string; second: string }[]>`
      select created, (state).session_id, starcite.ds_session_id(${src}, 2) as second
      from starcite.ds_create(${src}, 'text/plain', tenant_id => 'ds_third')`;
    expect(row!.created).toBe(true);
    expect(row!.session_id).toBe(row!.second);
    const [theirs] = await db.sql<{ session_id: string }[]>`
      select session_id from starcite.ds_resolve(${src}, tenant_id => 'ds_third')`;
    expect(theirs!.session_id).toBe(row!.session_id);
    await pgError(db.sql`select * from starcite.ds_resolve(${src})`, "SC100");
  });
});

describe("appends", () => {
  test("JSON: a top-level array is flattened one level; objects are ds.message payloads, other values {value}", async () => {
    const p = path();
    const { state } = await create(p, { ct: "application/json", json: [{ a: 1 }, [1, 2]] });
    expect(state.tail_seq).toBe(2);
    const r = await post(p, { json: "text" });
    expect(r).toMatchObject({ outcome: "appended", state: { tail_seq: 3 } });
    await post(p, { json: [[[1]], null, 4] });
    expect((await events(state.session_id)).map((e) => [e.seq, e.type, e.payload])).toEqual([
      [1, "ds.message", { a: 1 }],
      [2, "ds.value", { value: [1, 2] }],
      [3, "ds.value", { value: "text" }],
      [4, "ds.value", { value: [[1]] }],
      [5, "ds.value", { value: null }],
      [6, "ds.value", { value: 4 }],
    ]);
    await pgError(db.sql`select * from starcite.ds_append(${p}, 'application/json', '[]')`, "SC001");
  });

  test("bytes: one ds.bytes event per append, the body in its own column, the content type in the payload", async () => {
    const p = path();
    const { state } = await create(p, { ct: "application/x-thing", body: Buffer.from([0, 1, 255]) });
    await post(p, { ct: "application/x-thing", body: Buffer.from([7]) });
    const rows = await events(state.session_id);
    expect(rows.map((e) => [e.seq, e.type, e.payload, [...(e.body ?? [])]])).toEqual([
      [1, "ds.bytes", { content_type: "application/x-thing" }, [0, 1, 255]],
      [2, "ds.bytes", { content_type: "application/x-thing" }, [7]],
    ]);
    const e = await pgError(db.sql`select * from starcite.ds_append(${p}, 'text/plain', body => '\\x01')`, "SC401");
    expect(detailOf(e)).toEqual({ content_type: "application/x-thing" });
    await pgError(db.sql`select * from starcite.ds_append(${p}, 'application/x-thing', body => '\\x')`, "SC001");
  });

  test("concurrent appends to one stream get gapless seqs in commit order", async () => {
    const p = path();
    const { state } = await create(p, { ct: "text/plain" });
    const tails = await Promise.all(Array.from({ length: 20 }, (_, i) => post(p, { ct: "text/plain", body: bytes(`m${i}`) })));
    expect(tails.map((t) => t.state.tail_seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await events(state.session_id)).map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  test("Stream-Seq must grow byte-wise", async () => {
    const p = path();
    await create(p, { ct: "text/plain" });
    await post(p, { ct: "text/plain", body: bytes("a"), streamSeq: "09" });
    await post(p, { ct: "text/plain", body: bytes("b"), streamSeq: "10" });
    for (const s of ["10", "09", "1", "0A"]) {
      const e = await pgError(db.sql`select * from starcite.ds_append(${p}, 'text/plain', body => '\\x01', stream_seq => ${s})`, "SC402");
      expect(detailOf(e)).toEqual({ stream_seq: "10" });
    }
    await post(p, { ct: "text/plain", body: bytes("c"), streamSeq: "a" });
    await pgError(db.sql`select * from starcite.ds_append(${p}, 'text/plain', body => '\\x01', stream_seq => 'B')`, "SC402");
  });
});

describe("idempotent producers", () => {
  test("epoch fencing, gaps, duplicates and new epochs", async () => {
    const p = path();
    const { state } = await create(p, { ct: "text/plain" });
    expect(await post(p, { ct: "text/plain", body: bytes("a0"), producer: ["A", 0, 0] })).toMatchObject({
      outcome: "appended",
      epoch: 0,
      last_producer_seq: 0,
    });
    await post(p, { ct: "text/plain", body: bytes("a1"), producer: ["A", 0, 1] });
    await post(p, { ct: "text/plain", body: bytes("a2"), producer: ["A", 0, 2] });
    expect(await post(p, { ct: "text/plain", body: bytes("other"), producer: ["A", 0, 1] })).toMatchObject({
      outcome: "duplicate",
      epoch: 0,
      last_producer_seq: 2,
    });

    const gap = await pgError(
      db.sql`select * from starcite.ds_append(${p}, 'text/plain', body => '\\x01',
      producer_id => 'A', producer_epoch => 0, producer_seq => 5)`,
      "SC201",
    );
    expect(detailOf(gap)).toMatchObject({ expected_producer_seq: 3, received_producer_seq: 5 });
    await pgError(
      db.sql`select * from starcite.ds_append(${p}, 'text/plain', body => '\\x01',
      producer_id => 'A', producer_epoch => 1, producer_seq => 1)`,
      "SC001",
    );
    expect(await post(p, { ct: "text/plain", body: bytes("b0"), producer: ["A", 1, 0] })).toMatchObject({ outcome: "appended", epoch: 1 });
    const stale = await pgError(
      db.sql`select * from starcite.ds_append(${p}, 'text/plain', body => '\\x01',
      producer_id => 'A', producer_epoch => 0, producer_seq => 3)`,
      "SC403",
    );
    expect(detailOf(stale)).toMatchObject({ current_epoch: 1 });
    // Producers are independent; a new one starts at 0.
    await post(p, { ct: "text/plain", body: bytes("x"), producer: ["B", 0, 0] });
    await pgError(
      db.sql`select * from starcite.ds_append(${p}, 'text/plain', body => '\\x01',
      producer_id => 'C', producer_epoch => 0, producer_seq => 4)`,
      "SC201",
    );
    // A duplicate wins over a Stream-Seq that would conflict.
    await post(p, { ct: "text/plain", body: bytes("s"), producer: ["B", 0, 1], streamSeq: "5" });
    expect((await post(p, { ct: "text/plain", body: bytes("s"), producer: ["B", 0, 1], streamSeq: "5" })).outcome).toBe("duplicate");

    expect((await events(state.session_id)).map((e) => e.body!.toString())).toEqual(["a0", "a1", "a2", "b0", "x", "s"]);
  });
});

describe("closing", () => {
  test("close appends a ds.closed marker after the last message and closes the session; only repeats of the close succeed", async () => {
    const p = path();
    const { state } = await create(p, { ct: "text/plain", body: bytes("hi") });
    const closed = await post(p, { ct: "text/plain", body: bytes("bye"), close: true, producer: ["P", 0, 0] });
    expect(closed).toMatchObject({ outcome: "appended", state: { tail_seq: 2, closed: true } });
    expect((await events(state.session_id)).map((e) => [e.seq, e.type])).toEqual([
      [1, "ds.bytes"],
      [2, "ds.bytes"],
      [3, "ds.closed"],
    ]);

    expect((await post(p, { ct: "text/plain", body: bytes("again"), close: true, producer: ["P", 0, 0] })).outcome).toBe("duplicate");
    expect((await post(p, { close: true })).outcome).toBe("closed");
    const e = await pgError(db.sql`select * from starcite.ds_append(${p}, 'text/plain', body => '\\x01')`, "SC103");
    expect(detailOf(e)).toMatchObject({ tail_seq: 2 });
    await pgError(
      db.sql`select * from starcite.ds_append(${p}, 'text/plain', body => '\\x01', close => true,
      producer_id => 'P', producer_epoch => 0, producer_seq => 1)`,
      "SC103",
    );

    // Every other append path refuses the closed session too.
    await starciteError(append(db.sql, state.session_id, { payload: { text: "late" } }), "session_closed");
    const [row] = await db.sql<{ error_code: string }[]>`
      select error_code from starcite.append_items(${db.sql.json([{ session_id: state.session_id, payload: {} }])}::jsonb)`;
    expect(row!.error_code).toBe("session_closed");
  });

  test("a stream can be created closed, with or without a body", async () => {
    const a = await create(path(), { ct: "text/plain", closed: true });
    expect(a.state).toMatchObject({ tail_seq: 0, closed: true });
    const b = await create(path(), { ct: "application/json", json: [1, 2], closed: true });
    expect(b.state).toMatchObject({ tail_seq: 2, closed: true });
    expect((await events(b.state.session_id)).map((e) => e.type)).toEqual(["ds.value", "ds.value", "ds.closed"]);
  });
});

describe("expiry and deletion", () => {
  test("an idle TTL stream expires: reads and appends fail, its session goes, and the path takes a new incarnation", async () => {
    const p = path();
    const first = await create(p, { ct: "text/plain", ttl: 60, body: bytes("old") });
    await db.sql`update starcite.ds_streams set last_access_at = now() - interval '61 seconds' where path = ${p}`;
    await pgError(db.sql`select * from starcite.ds_resolve(${p})`, "SC100");
    await pgError(db.sql`select * from starcite.ds_append(${p}, 'text/plain', body => '\\x01')`, "SC100");
    await pgError(db.sql`select starcite.ds_delete(${p})`, "SC100");

    const second = await create(p, { ct: "application/json", json: ["new"] });
    expect(second.created).toBe(true);
    expect(second.state.session_id).toBe(`${first.state.session_id}__2`);
    expect(second.state.offset_epoch).not.toBe(first.state.offset_epoch);
    expect(second.state.tail_seq).toBe(1);
    // The new PUT settled the expired incarnation: its session is gone.
    expect(await db.sql`select 1 from starcite.sessions where id = ${first.state.session_id}`).toHaveLength(0);
  });

  test("a read moves the sliding TTL; HEAD (touch => false) does not; Expires-At never moves", async () => {
    const p = path();
    await create(p, { ct: "text/plain", ttl: 60 });
    const at = async () =>
      (await db.sql<{ t: string }[]>`select last_access_at::text as t from starcite.ds_streams where path = ${p}`)[0]!.t;
    await db.sql`update starcite.ds_streams set last_access_at = now() - interval '30 seconds' where path = ${p}`;
    const before = await at();
    await db.sql`select starcite.ds_resolve(${p}, false)`;
    expect(await at()).toBe(before);
    await db.sql`select starcite.ds_resolve(${p}, true)`;
    expect(await at()).not.toBe(before);
  });

  test("sweep settles expired streams nobody asks for", async () => {
    const p = path();
    const { state } = await create(p, { ct: "text/plain", ttl: 1 });
    await db.sql`update starcite.ds_streams set last_access_at = now() - interval '2 seconds' where path = ${p}`;
    const [row] = await db.sql<{ n: number }[]>`select starcite.ds_sweep(1000) as n`;
    expect(row!.n).toBeGreaterThanOrEqual(1);
    expect(await db.sql`select 1 from starcite.sessions where id = ${state.session_id}`).toHaveLength(0);
  });

  test("delete removes the session; a deleted stream whose forks live answers 410 and blocks its path until they go", async () => {
    const src = path();
    const fork = path();
    const { state } = await create(src, { ct: "text/plain", body: bytes("data") });
    await create(fork, { fork: src });
    await db.sql`select starcite.ds_delete(${src})`;
    expect(await db.sql`select 1 from starcite.sessions where id = ${state.session_id}`).toHaveLength(0);
    await pgError(db.sql`select * from starcite.ds_resolve(${src})`, "SC404");
    await pgError(db.sql`select starcite.ds_delete(${src})`, "SC404");
    await pgError(db.sql`select * from starcite.ds_create(${src}, 'text/plain')`, "SC400");
    await pgError(db.sql`select * from starcite.ds_create(${path()}, fork_path => ${src})`, "SC400");
    await db.sql`select starcite.ds_delete(${fork})`;
    await pgError(db.sql`select * from starcite.ds_resolve(${src})`, "SC100");
    expect((await create(src, { ct: "text/plain" })).created).toBe(true);
  });
});

describe("forks", () => {
  test("a fork copies its source up to the fork point under the same seqs and offset epoch, then diverges", async () => {
    const src = path();
    const s = await create(src, { ct: "text/plain", ttl: 3600, body: bytes("A") });
    await post(src, { ct: "text/plain", body: bytes("B"), producer: ["P", 0, 0] });
    const f = await create(path(), { fork: src, forkEpoch: s.state.offset_epoch, forkSeq: 1 });
    expect(f.state).toMatchObject({ offset_epoch: s.state.offset_epoch, content_type: "text/plain", ttl_seconds: 3600, tail_seq: 1 });
    await post(src, { ct: "text/plain", body: bytes("C") });
    const [fork] = await db.sql<{ path: string }[]>`select path from starcite.ds_streams where session_id = ${f.state.session_id}`;
    // Producers are not inherited: P starts afresh on the fork.
    expect((await post(fork!.path, { ct: "text/plain", body: bytes("X"), producer: ["P", 0, 0] })).outcome).toBe("appended");
    expect((await events(f.state.session_id)).map((e) => e.body!.toString())).toEqual(["A", "X"]);
  });

  test("fork points: default tail, the zero offset, beyond the tail, another stream's offsets", async () => {
    const src = path();
    const s = await create(src, { ct: "text/plain", body: bytes("hello") });
    expect((await create(path(), { fork: src })).state.tail_seq).toBe(1);
    expect((await create(path(), { fork: src, forkEpoch: 0, forkSeq: 0 })).state.tail_seq).toBe(0);
    await pgError(
      db.sql`select * from starcite.ds_create(${path()}, fork_path => ${src}, fork_epoch => ${s.state.offset_epoch}, fork_seq => 2)`,
      "SC001",
    );
    await pgError(db.sql`select * from starcite.ds_create(${path()}, fork_path => ${src}, fork_epoch => 999999, fork_seq => 1)`, "SC001");
    await pgError(db.sql`select * from starcite.ds_create(${path()}, fork_path => ${path()})`, "SC100");
    await pgError(db.sql`select * from starcite.ds_create(${path()}, 'application/json', fork_path => ${src})`, "SC401");
  });

  test("sub-offsets: the next message's first bytes, or the next messages of a JSON stream", async () => {
    const bin = path();
    await create(bin, { ct: "text/plain", body: bytes("hello") });
    const f = await create(path(), { fork: bin, forkEpoch: 0, forkSeq: 0, sub: 3 });
    expect((await events(f.state.session_id)).map((e) => e.body!.toString())).toEqual(["hel"]);
    expect((await create(path(), { fork: bin, forkEpoch: 0, forkSeq: 0, sub: 5 })).state.tail_seq).toBe(1);
    await pgError(
      db.sql`select * from starcite.ds_create(${path()}, fork_path => ${bin}, fork_epoch => 0, fork_seq => 0, fork_sub_offset => 6)`,
      "SC001",
    );

    const json = path();
    await create(json, { ct: "application/json", json: [{ a: 1 }, { b: 2 }, { c: 3 }] });
    const j = await create(path(), { fork: json, forkEpoch: 0, forkSeq: 0, sub: 2 });
    expect((await events(j.state.session_id)).map((e) => e.payload)).toEqual([{ a: 1 }, { b: 2 }]);
    await pgError(
      db.sql`select * from starcite.ds_create(${path()}, fork_path => ${json}, fork_epoch => 0, fork_seq => 0, fork_sub_offset => 4)`,
      "SC001",
    );
    await pgError(db.sql`select * from starcite.ds_create(${path()}, 'text/plain', fork_sub_offset => 1)`, "SC001");
  });

  test("a repeated fork PUT is confirmed only with the same source, fork point and sub-offset", async () => {
    const src = path();
    await create(src, { ct: "text/plain", body: bytes("hello") });
    const target = path();
    await create(target, { fork: src, forkEpoch: 0, forkSeq: 0, sub: 2 });
    expect((await create(target, { fork: src, forkEpoch: 0, forkSeq: 0, sub: 2 })).created).toBe(false);
    await pgError(
      db.sql`select * from starcite.ds_create(${target}, fork_path => ${src}, fork_epoch => 0, fork_seq => 0, fork_sub_offset => 3)`,
      "SC400",
    );
    await pgError(db.sql`select * from starcite.ds_create(${target}, 'text/plain')`, "SC400");
  });
});

describe("reads", () => {
  test("ds_read pages by count and by bytes, always at least one event", async () => {
    const p = path();
    const { state } = await create(p, { ct: "application/octet-stream" });
    for (let i = 0; i < 5; i++) await post(p, { body: Buffer.alloc(1000, i) });
    const page = (after: number, max: number, bytesMax: number) =>
      db.sql<{ seq: number }[]>`select seq from starcite.ds_read(${state.session_id}, ${after}, ${max}, ${bytesMax})`;
    expect((await page(0, 3, 1_000_000)).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect((await page(1, 100, 2500)).map((r) => r.seq)).toEqual([2, 3, 4]);
    expect((await page(0, 100, 1)).map((r) => r.seq)).toEqual([1]);
    expect((await page(5, 100, 1)).map((r) => r.seq)).toEqual([]);
  });
});
