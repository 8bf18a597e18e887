/**
 * dbmate migrations on an empty database: up, down, up again, with the functions working afterwards and
 * `dbmate status` reporting everything applied.
 */
import fs from "node:fs";
import postgres from "postgres";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createPool } from "../../src/db/client.ts";
import { append, appendBatch, read } from "../../src/db/events.ts";
import { dbmate, migrate, MIGRATIONS_DIR } from "../../src/db/migrate.ts";
import { createSession, getSession } from "../../src/db/sessions.ts";
import { createEmptyDatabase } from "../helpers/db.ts";
import { listenHints } from "./_support.ts";

let empty: { url: string; drop(): Promise<void> };
const migrations = fs.readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith(".sql")).sort();

beforeAll(async () => {
  empty = await createEmptyDatabase();
});

afterAll(async () => {
  await empty?.drop();
});

async function schemaExists(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from pg_namespace where nspname = 'starcite'`;
    return row!.n === 1;
  } finally {
    await sql.end();
  }
}

async function appliedVersions(url: string): Promise<string[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ version: string }[]>`select version from schema_migrations order by version`;
    return rows.map((r) => r.version);
  } finally {
    await sql.end();
  }
}

/** The SQL API works end to end: sessions, appends with dedup, reads, notifications. */
async function exercise(url: string, id: string): Promise<void> {
  const sql = createPool(url, { max: 2 });
  const hints = await listenHints(url);
  try {
    await createSession(sql, { id, title: "after migrate" });
    expect(await append(sql, id, { payload: { n: 1 }, producerId: "p", producerSeq: 1 })).toEqual({ seq: 1, lastSeq: 1, deduped: false });
    expect(await append(sql, id, { payload: { n: 1 }, producerId: "p", producerSeq: 1 })).toEqual({ seq: 1, lastSeq: 1, deduped: true });
    const batch = await appendBatch(sql, id, [{ payload: { n: 2 } }, { payload: "bad" as never }]);
    expect(batch.map((o) => (o.ok ? o.result.seq : o.error.code))).toEqual([2, "invalid_event"]);
    expect((await read(sql, id)).map((e) => e.seq)).toEqual([1, 2]);
    expect((await getSession(sql, id))?.lastSeq).toBe(2);
    await hints.waitFor("the batch", (h) => h.session_id === id && h.last_seq === 2);
  } finally {
    await hints.close();
    await sql.end({ timeout: 5 });
  }
}

test("up, down, up on an empty database; the functions work after the second up", async () => {
  expect(migrations.length).toBeGreaterThan(0);
  expect(await schemaExists(empty.url)).toBe(false);
  const versions = migrations.map((f) => f.split("_")[0]!);

  const up1 = await migrate(empty.url);
  expect(up1).toContain(`Applied: ${migrations[0]}`);
  expect(await appliedVersions(empty.url)).toEqual(versions);
  await exercise(empty.url, "first-life");

  // A migrate with nothing pending is a no-op.
  await migrate(empty.url);
  expect(await appliedVersions(empty.url)).toEqual(versions);

  // `down` rolls back the newest migration ...
  const down = await dbmate(empty.url, "down");
  expect(down).toContain(`Rolled back: ${migrations[migrations.length - 1]}`);
  expect(await appliedVersions(empty.url)).toEqual(versions.slice(0, -1));
  // ... and repeated, all of them, which leaves no starcite schema behind.
  for (let i = 1; i < migrations.length; i++) await dbmate(empty.url, "down");
  expect(await appliedVersions(empty.url)).toEqual([]);
  expect(await schemaExists(empty.url)).toBe(false);

  const up2 = await migrate(empty.url);
  for (const file of migrations) expect(up2).toContain(`Applied: ${file}`);
  expect(await appliedVersions(empty.url)).toEqual(versions);
  // The data went with the schema; the same id is free again.
  await exercise(empty.url, "first-life");

  const status = await dbmate(empty.url, "status");
  for (const file of migrations) expect(status).toContain(`[X] ${file}`);
  expect(status).toContain(`Applied: ${migrations.length}`);
  expect(status).toContain("Pending: 0");
});

test("the newest migration can be rolled back and re-applied on a database with data", async () => {
  const db = await createEmptyDatabase();
  try {
    await migrate(db.url);
    await exercise(db.url, "keep-me");
    await dbmate(db.url, "down");
    await migrate(db.url);
    const sql = createPool(db.url, { max: 1 });
    try {
      if (migrations.length > 1) {
        // Only the newest migration was undone: data of the earlier ones survives.
        expect((await getSession(sql, "keep-me"))?.lastSeq).toBe(2);
        expect((await append(sql, "keep-me", { payload: { n: 1 }, producerId: "p", producerSeq: 1 })).deduped).toBe(true);
      } else {
        await exercise(db.url, "keep-me");
      }
    } finally {
      await sql.end({ timeout: 5 });
    }
  } finally {
    await db.drop();
  }
});
