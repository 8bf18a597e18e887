import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { checkAuthMode, resolveTokenSecret } from "../../src/startup/auth-config.ts";
import { loadConfig } from "../../src/shared/config.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { ROOT, SOURCE_NODE_ARGS } from "../helpers/node.ts";

describe("auth configuration at start-up", () => {
  test("production refuses STARCITE_AUTH=none and a missing token secret, before touching any database", () => {
    for (const [extra, message] of [
      [{ STARCITE_AUTH: "none" }, "STARCITE_AUTH=none is refused with NODE_ENV=production"],
      [{}, "NODE_ENV=production needs STARCITE_TOKEN_SECRET"],
    ] as const) {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        NODE_ENV: "production",
        DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
        ...extra,
      };
      delete env.STARCITE_TOKEN_SECRET;
      const run = spawnSync(process.execPath, [...SOURCE_NODE_ARGS, "src/main.ts"], { cwd: ROOT, env, encoding: "utf8", timeout: 30_000 });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(message);
    }
  });

  test("STARCITE_AUTH=none says so loudly; a bad value is rejected", () => {
    const lines: string[] = [];
    checkAuthMode(
      loadConfig({ STARCITE_AUTH: "none" }),
      createLogger("info", (l) => lines.push(l)),
    );
    expect(lines.join("\n")).toContain("AUTHENTICATION IS OFF");
    expect(() => loadConfig({ STARCITE_AUTH: "off" })).toThrow(/STARCITE_AUTH must be/);
  });

  test("development generates a token secret once and reuses it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "starcite-secret-"));
    try {
      const config = loadConfig({ STARCITE_DATA_DIR: path.join(dir, "pg") });
      const logger = createLogger("silent");
      const first = resolveTokenSecret(config, logger);
      expect(first.length).toBeGreaterThanOrEqual(32);
      expect(resolveTokenSecret(config, logger)).toBe(first);
      expect(fs.statSync(path.join(dir, "token-secret")).mode & 0o777).toBe(0o600);
      expect(
        resolveTokenSecret(loadConfig({ STARCITE_DATA_DIR: path.join(dir, "pg"), STARCITE_TOKEN_SECRET: "x".repeat(40) }), logger),
      ).toBe("x".repeat(40));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
