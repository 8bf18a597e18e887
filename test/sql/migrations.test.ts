/**
 * dbmate migrations on an empty database: up, down, up again, with the functions working afterwards and
 * `dbmate status` reporting everything applied. A database that still records the migrations squashed into
 * the baseline is refused with one line that says what to do, by the migration code and by `npm start`.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createPool } from "../../src/db/client.ts";
import { startEmbeddedPostgres } from "../../src/db/embedded.ts";
import { append, appendBatch, read } from "../../src/db/events.ts";
import { dbmate, migrate, MIGRATIONS_DIR, UnknownMigrationsError } from "../../src/db/migrate.ts";
import { createSession, getSession } from "../../src/db/sessions.ts";
import { createEmptyDatabase } from "../helpers/db.ts";
import { freePort } from "../helpers/net.ts";
import { ROOT, SOURCE_NODE_ARGS } from "../helpers/node.ts";
import { listenHints } from "./_support.ts";

/** The development migrations that the baseline replaced. */
const SQUASHED = ["20261124000001", "20261124000002", "20261124000003", "20261124000004"];

let empty: { url: string; drop(): Promise<void> };
const migrations = fs
  .readdirSync(MIGRATIONS_DIR)
  .filter((f) => f.endsWith(".sql"))
  .sort();

beforeAll(async () => {
  empty = await createEmptyDatabase();
});

afterAll(async () => {
  await empty?.drop();
});

async function query<T extends Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return [...(await sql.unsafe<T[]>(text))];
  } finally {
    await sql.end();
  }
}

const schemaExists = async (url: string) =>
  (await query<{ n: number }>(url, "select count(*)::int as n from pg_namespace where nspname = 'starcite'"))[0]!.n === 1;
const appliedVersions = async (url: string) =>
  (await query<{ version: string }>(url, "select version from schema_migrations order by version")).map((r) => r.version);

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
  expect(migrations).toHaveLength(1);
  expect(await schemaExists(empty.url)).toBe(false);
  const versions = migrations.map((f) => f.split("_")[0]!);

  const up1 = await migrate(empty.url);
  expect(up1).toContain(`Applied: ${migrations[0]}`);
  expect(await appliedVersions(empty.url)).toEqual(versions);
  await exercise(empty.url, "first-life");

  // A migrate with nothing pending is a no-op.
  await migrate(empty.url);
  expect(await appliedVersions(empty.url)).toEqual(versions);

  // The baseline's down drops the schema, data and all.
  const down = await dbmate(empty.url, "down");
  expect(down).toContain(`Rolled back: ${migrations[0]}`);
  expect(await appliedVersions(empty.url)).toEqual([]);
  expect(await schemaExists(empty.url)).toBe(false);

  const up2 = await migrate(empty.url);
  expect(up2).toContain(`Applied: ${migrations[0]}`);
  expect(await appliedVersions(empty.url)).toEqual(versions);
  // The data went with the schema; the same id is free again.
  await exercise(empty.url, "first-life");

  const status = await dbmate(empty.url, "status");
  expect(status).toContain(`[X] ${migrations[0]}`);
  expect(status).toContain("Applied: 1");
  expect(status).toContain("Pending: 0");
});

/** A database as the development versions before the baseline left it: their versions recorded, their schema. */
async function preBaselineDatabase(url: string): Promise<void> {
  await query(
    url,
    `create table schema_migrations (version varchar(128) primary key);
    insert into schema_migrations values ${SQUASHED.map((v) => `('${v}')`).join(", ")};
    create schema starcite; create table starcite.sessions (id text primary key)`,
  );
}

test("a database that records the squashed migrations is refused, named and left untouched", async () => {
  const db = await createEmptyDatabase();
  try {
    await preBaselineDatabase(db.url);
    const error = await migrate(db.url).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnknownMigrationsError);
    expect((error as UnknownMigrationsError).versions).toEqual(SQUASHED);
    expect((error as Error).message).not.toContain("\n");
    expect((error as Error).message).toContain(SQUASHED.join(", "));
    expect(await appliedVersions(db.url)).toEqual(SQUASHED);
  } finally {
    await db.drop();
  }
});

test("npm start on an embedded data dir from before the baseline: one line that says to delete the data dir", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "starcite-squashed-"));
  fs.chmodSync(tmp, 0o755);
  const dataDir = path.join(tmp, "pg");
  try {
    const pgPort = await freePort();
    const cluster = await startEmbeddedPostgres({ dataDir, port: pgPort });
    try {
      await query(cluster.url, "create database starcite");
      await preBaselineDatabase(cluster.url.replace(/\/postgres$/, "/starcite"));
    } finally {
      await cluster.stop();
    }

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      STARCITE_DATA_DIR: dataDir,
      STARCITE_PG_PORT: String(pgPort),
      STARCITE_CONFIG_DIR: path.join(tmp, "config"),
      PORT: String(await freePort()),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
    };
    delete env.DATABASE_URL;
    const child = spawn(process.execPath, [...SOURCE_NODE_ARGS, "src/main.ts"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(1);
    const lines = stderr
      .trim()
      .split("\n")
      .filter((l) => !l.includes("generated a development token secret"));
    expect(lines, stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^starcite failed to start: this database was migrated by an unreleased development version of starcite/);
    expect(lines[0]).toContain(SQUASHED.join(", "));
    expect(lines[0]).toContain(`delete ${dataDir}`);
    // The embedded Postgres was stopped again.
    expect(fs.existsSync(path.join(dataDir, "postmaster.pid"))).toBe(false);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
