/** The bench's Postgres: an ephemeral embedded cluster under os.tmpdir(), or the server DATABASE_URL points at. */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { createPool, type Sql } from "../../src/db/client.ts";
import { startEmbeddedPostgres } from "../../src/db/embedded.ts";
import { migrate } from "../../src/db/migrate.ts";
import { freePort } from "./servers.ts";

export interface BenchDatabase {
  url: string;
  /** A pool with the data layer's conventions (int8 as number, timestamptz as ISO text). */
  sql: Sql;
  drop(): Promise<void>;
}

export interface PostgresEnv {
  version: string;
  /** True when DATABASE_URL's server is used instead of an embedded cluster. */
  external: boolean;
  /** A migrated database for one scenario (a fresh clone of the template). */
  newDatabase(label: string, poolMax?: number): Promise<BenchDatabase>;
  /** A scratch directory under os.tmpdir(), removed at stop. */
  tmpDir: string;
  stop(): Promise<void>;
}


export async function startPostgres(log: (line: string) => void): Promise<PostgresEnv> {
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "starcite-bench-"));
  // Embedded Postgres runs as the postgres user when we are root: it must be able to enter the dir.
  fs.chmodSync(tmpDir, 0o755);
  const external = process.env.DATABASE_URL;
  // Per run, so that two runs against one DATABASE_URL server do not trip over each other.
  const TEMPLATE = `bench_template_${randomBytes(3).toString("hex")}`;
  let adminUrl: string;
  let stopCluster = async () => {};
  const started = Date.now();
  if (external) {
    adminUrl = external;
  } else {
    const port = await freePort();
    const cluster = await startEmbeddedPostgres({
      dataDir: path.join(tmpDir, "pg"),
      port,
      ephemeral: true,
      settings: { max_connections: 400, shared_buffers: "256MB" },
    });
    adminUrl = cluster.url;
    stopCluster = cluster.stop;
  }
  let version = "?";
  try {
    // A migrated template; each scenario gets a clone of it and drops it afterwards, so runs never see each
    // other's sessions (also on a DATABASE_URL server, where the role needs CREATEDB).
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`create database ${TEMPLATE}`);
    } catch (error) {
      await admin.end();
      throw new Error(`the bench creates and drops its own databases (bench_*) and could not: ` +
        `${error instanceof Error ? error.message : String(error)}. With DATABASE_URL, use a role with CREATEDB.`);
    }
    await admin.end();
    await migrate(withDb(adminUrl, TEMPLATE));
    log(external
      ? `using the server of DATABASE_URL (${new URL(external).host}); template ${TEMPLATE} migrated in ${Date.now() - started} ms`
      : `embedded Postgres on ${new URL(adminUrl).host} in ${tmpDir} (ready and migrated in ${Date.now() - started} ms)`);
    const probe = postgres(adminUrl, { max: 1, onnotice: () => {} });
    const [row] = await probe<{ server_version: string }[]>`show server_version`;
    version = row?.server_version ?? "?";
    await probe.end();
  } catch (error) {
    if (external) {
      const d = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await d.unsafe(`drop database if exists ${TEMPLATE} with (force)`).catch(() => {});
      await d.end();
    }
    await stopCluster().catch(() => {});
    fs.rmSync(tmpDir, { recursive: true, force: true });
    throw error;
  }

  return {
    version,
    external: Boolean(external),
    tmpDir,
    async newDatabase(label, poolMax = 40) {
      const name = `bench_${label.replace(/[^a-z0-9]/gi, "_").toLowerCase()}_${randomBytes(3).toString("hex")}`;
      const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await a.unsafe(`create database ${name} template ${TEMPLATE}`);
      await a.end();
      const url = withDb(adminUrl, name);
      const sql = createPool(url, { max: poolMax, applicationName: `bench-${label}` });
      return {
        url,
        sql,
        async drop() {
          await sql.end({ timeout: 5 });
          const d = postgres(adminUrl, { max: 1, onnotice: () => {} });
          await d.unsafe(`drop database if exists ${name} with (force)`);
          await d.end();
        },
      };
    },
    async stop() {
      if (external) {
        const d = postgres(adminUrl, { max: 1, onnotice: () => {} });
        await d.unsafe(`drop database if exists ${TEMPLATE} with (force)`).catch(() => {});
        await d.end();
      }
      await stopCluster();
      fs.rmSync(tmpDir, { recursive: true, force: true });
    },
  };
}

function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** Flushes dirty buffers so that one scenario's checkpoint does not land in the next one's window. */
export async function checkpoint(sql: Sql): Promise<void> {
  try {
    await sql`checkpoint`;
  } catch {
    // needs superuser or pg_checkpoint; without it, live with the noise
  }
}
