/**
 * What `npm start` says before and around serving: a busy port is one line before anything starts, and the
 * development key message always says where the key went or why it did not.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readCliConfig, writeCliConfig } from "../../src/cli/config-file.ts";
import { loadConfig } from "../../src/shared/config.ts";
import { silentLogger } from "../../src/shared/logger.ts";
import { bootstrapDevKey } from "../../src/startup/dev-key.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { ROOT, SOURCE_NODE_ARGS } from "../helpers/node.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "starcite-startup-"));
fs.chmodSync(tmp, 0o755);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test("a busy PORT is a one-line error before Postgres starts or anything is migrated", async () => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const port = (holder.address() as net.AddressInfo).port;
  const dataDir = path.join(tmp, "busy-pg");
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      STARCITE_DATA_DIR: dataDir,
      STARCITE_CONFIG_DIR: path.join(tmp, "busy-config"),
      LOG_LEVEL: "info",
    };
    delete env.DATABASE_URL;
    const child = spawn(process.execPath, [...SOURCE_NODE_ARGS, "src/main.ts"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(1);
    // The token secret is generated next to the data dir first; nothing else may have happened.
    const lines = stderr
      .trim()
      .split("\n")
      .filter((l) => !l.includes("generated a development token secret"));
    expect(lines).toEqual([
      `starcite failed to start: port ${port} on 127.0.0.1 is already in use: stop the process that holds it or set PORT`,
    ]);
    expect(stdout).toBe("");
    expect(fs.existsSync(dataDir)).toBe(false);
  } finally {
    holder.close();
  }
});

describe("the development key", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  const configFor = (configDir: string) => loadConfig({ STARCITE_CONFIG_DIR: configDir, STARCITE_DATA_DIR: path.join(tmp, "unused") });

  test("is saved with the endpoint when the CLI config is empty, and said so", async () => {
    const configDir = path.join(tmp, "fresh");
    let printed = "";
    const outcome = await bootstrapDevKey(db.sql, configFor(configDir), "http://localhost:4000", silentLogger, (t) => (printed += t));
    expect(outcome).toMatchObject({ created: true, savedTo: path.join(configDir, "config.json"), notSavedBecause: null });
    const secret = outcome.created ? outcome.secret : "";
    expect(readCliConfig(configDir)).toEqual({ endpoint: "http://localhost:4000", apiKey: secret });
    expect(printed).toContain(`Development API key (shown once): ${secret}`);
    expect(printed).toContain(`Saved with endpoint http://localhost:4000 to ${path.join(configDir, "config.json")}`);

    // The database now has a key: a later start creates none and says why.
    expect(await bootstrapDevKey(db.sql, configFor(configDir), "http://localhost:4000", silentLogger, () => {})).toEqual({
      created: false,
      reason: "the database already has API keys",
    });
  });

  test("a config that points at another endpoint is left alone, and the message says why and what to run", async () => {
    await db.sql`delete from starcite.api_keys`;
    const configDir = path.join(tmp, "elsewhere");
    writeCliConfig(configDir, { endpoint: "https://acme.starcite.io", apiKey: "sk_production" });
    let printed = "";
    const outcome = await bootstrapDevKey(db.sql, configFor(configDir), "http://localhost:4000", silentLogger, (t) => (printed += t));
    expect(outcome.created && outcome.savedTo).toBe(null);
    const secret = outcome.created ? outcome.secret : "";
    expect(readCliConfig(configDir)).toEqual({ endpoint: "https://acme.starcite.io", apiKey: "sk_production" });
    expect(printed).toContain(
      `Not saved for the CLI: ${path.join(configDir, "config.json")} already holds a key for https://acme.starcite.io`,
    );
    expect(printed).toContain(`starcite config set endpoint http://localhost:4000 && starcite config set api-key ${secret}`);
  });
});
