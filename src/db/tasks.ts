/**
 * `npm run db:build`: writes the baseline migration from the files in db/, then db/schema.sql.
 * `npm run db:baseline`: the baseline migration only (no database needed; `npm run build` runs it).
 * `npm run db:schema`: writes db/schema.sql only, from a scratch database migrated with db/migrations.
 * The scratch database lives on DATABASE_URL's server when it is set (its role needs CREATEDB), else on an
 * embedded Postgres in the system temp directory.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { dumpSchema } from "./catalog.ts";
import { createPool } from "./client.ts";
import { freePort, startEmbeddedPostgres } from "./embedded.ts";
import { migrate } from "./migrate.ts";
import { BASELINE_FILE, DB_DIR, SCHEMA_FILE, writeBaseline } from "./source.ts";

async function withScratchDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  let adminUrl = process.env.DATABASE_URL;
  let stop = async () => {};
  let tmp: string | undefined;
  if (!adminUrl) {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "starcite-db-"));
    fs.chmodSync(tmp, 0o755);
    const pg = await startEmbeddedPostgres({ dataDir: path.join(tmp, "pg"), port: await freePort(), ephemeral: true });
    adminUrl = pg.url;
    stop = pg.stop;
  }
  const name = `starcite_scratch_${randomBytes(4).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return await fn(url.toString());
  } finally {
    await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
    await admin.end();
    await stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function writeSchema(): Promise<void> {
  const text = await withScratchDatabase(async (url) => {
    await migrate(url);
    const sql = createPool(url, { max: 1 });
    try {
      return await dumpSchema(sql);
    } finally {
      await sql.end();
    }
  });
  fs.writeFileSync(SCHEMA_FILE, text);
  process.stdout.write(`wrote ${path.relative(process.cwd(), SCHEMA_FILE)}\n`);
}

const task = process.argv[2];
try {
  if (task === "build" || task === "baseline") {
    // stderr: `npm pack --json` runs this (prepare) and its stdout must stay JSON.
    const wrote = writeBaseline();
    process.stderr.write(
      `${wrote ? "built" : "up to date:"} ${path.relative(process.cwd(), BASELINE_FILE)} from ${path.relative(process.cwd(), DB_DIR)}/\n`,
    );
    if (task === "build") await writeSchema();
  } else if (task === "schema") {
    await writeSchema();
  } else {
    process.stderr.write("usage: tsx src/db/tasks.ts build|baseline|schema\n");
    process.exitCode = 2;
  }
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
