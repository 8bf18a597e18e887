import os from "node:os";
import path from "node:path";
import { AUTH_FAILURE_LIMITS, HTTP_LIMITS, SOCKET_LIMITS } from "./limits.ts";

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
  /** NODE_ENV=production: auth and a token secret are mandatory, GraphiQL is off. */
  production: boolean;
  /** STARCITE_AUTH=none turns authentication off (local experiments only). */
  authMode: "required" | "none";
  /** STARCITE_TOKEN_SECRET: HS256 key for session tokens; generated and kept in .starcite/ in development. */
  tokenSecret: string | undefined;
  /** Optional external identity provider (RS256 JWTs with tenant_id, sub and scope claims). */
  jwksUrl: string | undefined;
  jwtIssuer: string | undefined;
  jwtAudience: string | undefined;
  /** STARCITE_FAST_PATHS=off: no JSON-POST fast path and no shared tail results (for checking they change nothing). */
  fastPaths: boolean;
  /** Where the CLI keeps its config (and where the first start stores the development API key). */
  configDir: string;
  /** Durable Streams: how long an idle long-poll waits (STARCITE_STREAM_LONG_POLL_MS). */
  streamLongPollMs: number;
  /** Durable Streams: how long one SSE response lasts before the server ends it (STARCITE_STREAM_SSE_MAX_MS). */
  streamSseMaxMs: number;
  /** STARCITE_WORKERS=off: this process runs no background workers (retention, archiver, webhook sender). */
  workers: boolean;
  /** The archive's S3-compatible bucket (STARCITE_ARCHIVE_S3_*); null: no archive. Credentials: the AWS SDK's usual chain. */
  archive: { bucket: string; prefix: string; endpoint: string | undefined; region: string; forcePathStyle: boolean } | null;
  /** STARCITE_CORS_ORIGINS: "*", a list of origins, or [] (same-origin only; the production default). */
  corsOrigins: "*" | string[];
  /** STARCITE_INTROSPECTION: schema introspection (default on, off in production). */
  introspection: boolean;
  /** STARCITE_AUTH_FAILURE_LIMIT: failed authentications per client address per 10 s before 429 (0: off). */
  authFailureLimit: number;
  limits: {
    bodyBytes: number;
    frameBytes: number;
    operationsPerSocket: number;
    socketsPerCredential: number;
  };
}

function corsOrigins(raw: string | undefined, production: boolean): "*" | string[] {
  if (raw === undefined || raw === "") return production ? [] : "*";
  if (raw.trim() === "*") return "*";
  if (raw.trim() === "none") return [];
  const origins = raw
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (!url || url.origin !== origin) {
      throw new Error(
        `STARCITE_CORS_ORIGINS takes "*", "none" or comma-separated origins like https://app.example.com, got ${JSON.stringify(origin)}`,
      );
    }
  }
  return origins;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return value;
}

function positiveFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = intFromEnv(env, name, fallback);
  if (value < 1) throw new Error(`${name} must be at least 1 (milliseconds)`);
  return value;
}

function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "on") return true;
  if (raw === "off") return false;
  throw new Error(`${name} must be "on" or "off", got ${JSON.stringify(raw)}`);
}

function authMode(raw: string | undefined): "required" | "none" {
  if (raw === undefined || raw === "" || raw === "required") return "required";
  if (raw === "none") return "none";
  throw new Error(`STARCITE_AUTH must be "required" or "none", got ${JSON.stringify(raw)}`);
}

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = (env.LOG_LEVEL ?? "info").toLowerCase();
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(env.LOG_LEVEL)}`);
  }
  const production = env.NODE_ENV === "production";
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(env.STARCITE_DATA_DIR || path.join(process.cwd(), ".starcite", "pg")),
    embeddedPgPort: intFromEnv(env, "STARCITE_PG_PORT", 54329),
    port: intFromEnv(env, "PORT", 4000),
    host: env.HOST || "0.0.0.0",
    logLevel: logLevel as LogLevel,
    poolSize: intFromEnv(env, "STARCITE_POOL_SIZE", Math.max(4, os.cpus().length * 2)),
    production,
    authMode: authMode(env.STARCITE_AUTH),
    tokenSecret: env.STARCITE_TOKEN_SECRET || undefined,
    jwksUrl: env.STARCITE_JWKS_URL || undefined,
    jwtIssuer: env.STARCITE_JWT_ISSUER || undefined,
    jwtAudience: env.STARCITE_JWT_AUDIENCE || undefined,
    fastPaths: onOff(env, "STARCITE_FAST_PATHS", true),
    configDir: path.resolve(env.STARCITE_CONFIG_DIR || path.join(os.homedir(), ".starcite")),
    streamLongPollMs: positiveFromEnv(env, "STARCITE_STREAM_LONG_POLL_MS", 20_000),
    streamSseMaxMs: positiveFromEnv(env, "STARCITE_STREAM_SSE_MAX_MS", 60_000),
    workers: onOff(env, "STARCITE_WORKERS", true),
    archive: env.STARCITE_ARCHIVE_S3_BUCKET
      ? {
          bucket: env.STARCITE_ARCHIVE_S3_BUCKET,
          prefix: env.STARCITE_ARCHIVE_S3_PREFIX ?? "",
          endpoint: env.STARCITE_ARCHIVE_S3_ENDPOINT || undefined,
          region: env.STARCITE_ARCHIVE_S3_REGION || env.AWS_REGION || "us-east-1",
          forcePathStyle: onOff(env, "STARCITE_ARCHIVE_S3_FORCE_PATH_STYLE", Boolean(env.STARCITE_ARCHIVE_S3_ENDPOINT)),
        }
      : null,
    corsOrigins: corsOrigins(env.STARCITE_CORS_ORIGINS, production),
    introspection: onOff(env, "STARCITE_INTROSPECTION", !production),
    authFailureLimit: intFromEnv(env, "STARCITE_AUTH_FAILURE_LIMIT", AUTH_FAILURE_LIMITS.failures),
    limits: {
      bodyBytes: intFromEnv(env, "STARCITE_MAX_BODY_BYTES", HTTP_LIMITS.bodyBytes),
      frameBytes: intFromEnv(env, "STARCITE_WS_MAX_FRAME_BYTES", SOCKET_LIMITS.frameBytes),
      operationsPerSocket: intFromEnv(env, "STARCITE_WS_MAX_OPERATIONS", SOCKET_LIMITS.operationsPerSocket),
      socketsPerCredential: intFromEnv(env, "STARCITE_WS_MAX_PER_CREDENTIAL", SOCKET_LIMITS.socketsPerCredential),
    },
  };
}
