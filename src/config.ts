import os from "node:os";
import path from "node:path";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

export interface Config {
  /** Postgres to use; when unset, an embedded Postgres is started in `dataDir`. */
  databaseUrl: string | undefined;
  /** Data directory of the embedded Postgres (kept across restarts). */
  dataDir: string;
  /** Port of the embedded Postgres. */
  embeddedPgPort: number;
  /** HTTP/WebSocket port of the server. */
  port: number;
  host: string;
  logLevel: LogLevel;
  /** Connections in the query pool. */
  poolSize: number;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return value;
}

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = (env.LOG_LEVEL ?? "info").toLowerCase();
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(env.LOG_LEVEL)}`);
  }
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(env.STARCITE_DATA_DIR || path.join(process.cwd(), ".starcite", "pg")),
    embeddedPgPort: intFromEnv(env, "STARCITE_PG_PORT", 54329),
    port: intFromEnv(env, "PORT", 4000),
    host: env.HOST || "0.0.0.0",
    logLevel: logLevel as LogLevel,
    poolSize: intFromEnv(env, "STARCITE_POOL_SIZE", Math.max(4, os.cpus().length * 2)),
  };
}
