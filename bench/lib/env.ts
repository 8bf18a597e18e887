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
  /**
   * CPU seconds used by the Postgres cluster so far (postmaster, its live children and the children it reaped),
   * from /proc; undefined when the server is not a local process this user can read.
   */
  cpuSeconds(): number | undefined;
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
  let postmaster: number | undefined;
  try {
    // A migrated template; each scenario gets a clone of it and drops it afterwards, so runs never see each
    // other's sessions (also on a DATABASE_URL server, where the role needs CREATEDB).
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`create database ${TEMPLATE}`);
    } catch (error) {
      await admin.end();
      throw new Error(
        `the bench creates and drops its own databases (bench_*) and could not: ` +
          `${error instanceof Error ? error.message : String(error)}. With DATABASE_URL, use a role with CREATEDB.`,
      );
    }
    await admin.end();
    await migrate(withDb(adminUrl, TEMPLATE));
    log(
      external
        ? `using the server of DATABASE_URL (${new URL(external).host}); template ${TEMPLATE} migrated in ${Date.now() - started} ms`
        : `embedded Postgres on ${new URL(adminUrl).host} in ${tmpDir} (ready and migrated in ${Date.now() - started} ms)`,
    );
    const probe = postgres(adminUrl, { max: 1, onnotice: () => {} });
    const [row] = await probe<{ server_version: string }[]>`show server_version`;
    version = row?.server_version ?? "?";
    const [backend] = await probe<{ pid: number }[]>`select pg_backend_pid() as pid`;
    // A remote server's pid means nothing here.
    if (!external) postmaster = parentOf(backend!.pid);
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
    cpuSeconds: () => (postmaster === undefined ? undefined : clusterCpuSeconds(postmaster)),
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

function parentOf(pid: number): number | undefined {
  try {
    const m = /^PPid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const TICKS_PER_SECOND = 100;

/** utime, stime, cutime, cstime of a process (in seconds), or null when it is gone. */
function cpuOf(pid: number): { own: number; reaped: number; ppid: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command may contain spaces; fields after it are space-separated.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return {
      ppid: Number(f[1]),
      own: (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND,
      reaped: (Number(f[13]) + Number(f[14])) / TICKS_PER_SECOND,
    };
  } catch {
    return null;
  }
}

function clusterCpuSeconds(postmaster: number): number | undefined {
  const root = cpuOf(postmaster);
  if (!root) return undefined;
  let total = root.own + root.reaped;
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const c = cpuOf(Number(name));
    if (c && c.ppid === postmaster) total += c.own;
  }
  return total;
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
