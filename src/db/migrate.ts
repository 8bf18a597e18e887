import { spawn } from "node:child_process";
import { resolveBinary } from "dbmate";
import postgres from "postgres";
import fs from "node:fs";
import { MIGRATIONS_DIR, writeBaseline } from "./source.ts";

export { MIGRATIONS_DIR };

/** dbmate needs sslmode spelled out for a server without TLS (the embedded one). */
export function dbmateUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  if (!url.searchParams.has("sslmode")) url.searchParams.set("sslmode", "disable");
  return url.toString();
}

/**
 * Runs the dbmate CLI against `databaseUrl`: `up` applies pending migrations, `down` rolls back the last one.
 * `--no-dump-schema` because a fresh machine has no pg_dump matching the server (db/schema.sql is written
 * from the catalog by `npm run db:schema` instead). In a checkout the baseline is first brought up to date with
 * db/'s source files.
 */
export async function dbmate(
  databaseUrl: string,
  command: "up" | "down" | "status" | "migrate" | "create",
  extraArgs: string[] = [],
): Promise<string> {
  writeBaseline();
  const args = ["--url", dbmateUrl(databaseUrl), "--migrations-dir", MIGRATIONS_DIR, "--no-dump-schema", command, ...extraArgs];
  return new Promise((resolve, reject) => {
    const child = spawn(resolveBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`dbmate ${command} failed (exit ${code}): ${out.trim()}`));
    });
  });
}

/**
 * The database records migrations that db/migrations does not have: it was migrated by an unreleased
 * development version whose migrations were since squashed into the baseline. It cannot be upgraded in place.
 */
export class UnknownMigrationsError extends Error {
  override readonly name = "UnknownMigrationsError";
  constructor(
    readonly versions: string[],
    remedy = "drop and recreate the database, then migrate again",
  ) {
    super(
      `this database was migrated by an unreleased development version of starcite (migrations ${versions.join(", ")}, ` +
        `since squashed into one baseline) and cannot be upgraded: ${remedy}`,
    );
  }
}

/** Applied migration versions (dbmate's schema_migrations) that no file in db/migrations has. */
export async function unknownMigrations(databaseUrl: string): Promise<string[]> {
  writeBaseline();
  const known = new Set(
    fs
      .readdirSync(MIGRATIONS_DIR)
      .filter((f) => f.endsWith(".sql"))
      .map((f) => f.split("_")[0]!),
  );
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [table] = await sql<{ found: boolean }[]>`select to_regclass('schema_migrations') is not null as found`;
    if (!table!.found) return [];
    const rows = await sql<{ version: string }[]>`select version from schema_migrations order by version`;
    return rows.map((r) => r.version).filter((v) => !known.has(v));
  } finally {
    await sql.end();
  }
}

/** Applies pending migrations; refuses (UnknownMigrationsError) a database migrated by a squashed-away version. */
export async function migrate(databaseUrl: string): Promise<string> {
  const unknown = await unknownMigrations(databaseUrl);
  if (unknown.length > 0) throw new UnknownMigrationsError(unknown);
  return dbmate(databaseUrl, "up");
}
