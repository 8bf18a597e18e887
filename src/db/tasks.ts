/**
 * `npm run db:build`: writes the baseline migration from the files in db/, then db/schema.sql.
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
import { baselineFile, baselineMigration, DB_DIR, SCHEMA_FILE } from "./source.ts";

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
  if (task === "build") {
    const file = baselineFile();
    fs.writeFileSync(file, baselineMigration());
    process.stdout.write(`wrote ${path.relative(process.cwd(), file)} from ${path.relative(process.cwd(), DB_DIR)}/\n`);
    await writeSchema();
  } else if (task === "schema") {
    await writeSchema();
  } else {
    process.stderr.write("usage: tsx src/db/tasks.ts build|schema\n");
    process.exitCode = 2;
  }
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
