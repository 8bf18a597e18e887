import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { resolveBinary } from "dbmate";

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../db/migrations");

/** dbmate needs sslmode spelled out for a server without TLS (the embedded one). */
export function dbmateUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  if (!url.searchParams.has("sslmode")) url.searchParams.set("sslmode", "disable");
  return url.toString();
}

/**
 * Runs the dbmate CLI against `databaseUrl`: `up` applies pending migrations, `down` rolls back the last one.
 * `--no-dump-schema` because a fresh machine has no pg_dump matching the server.
 */
export async function dbmate(databaseUrl: string, command: "up" | "down" | "status" | "migrate" | "create",
                             extraArgs: string[] = []): Promise<string> {
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

export const migrate = (databaseUrl: string): Promise<string> => dbmate(databaseUrl, "up");
