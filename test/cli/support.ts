import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, inject } from "vitest";
import { startTestServer, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";
import { adminKey } from "../sdk/support.ts";

/**
 * The CLI from source (src/cli/main.ts, bundled once per run by the global setup and run with plain node); the
 * built bin (bin/starcite.js over dist/) is tested on the packed package in test/packages.
 */
const CLI_BUNDLE = inject("cliBundle");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A HOME of its own, so `~/.starcite` is private to the test. */
export function tempHome(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "starcite-cli-"));
}

/** The child's environment: no STARCITE_* leaking in from the test runner. */
function childEnv(home: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("STARCITE_")) env[k] = v;
  return { ...env, HOME: home, ...extra };
}

export interface RunningCli {
  /** stdout so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Complete stdout lines so far. */
  lines(): string[];
  /** Resolves once stdout has at least `n` complete lines (rejects if the process exits first or after the timeout). */
  waitForLines(n: number, timeoutMs?: number): Promise<string[]>;
  exited: Promise<CliResult>;
  signal(sig: NodeJS.Signals): void;
}

/** Starts `starcite <args>` (the bundled src/cli/main.ts under node) as a child process. */
export function startCli(args: string[], options: { home: string; env?: Record<string, string> }): RunningCli {
  const child = spawn(process.execPath, [CLI_BUNDLE, ...args], {
    env: childEnv(options.home, options.env ?? {}),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const watchers = new Set<() => void>();
  const notify = () => watchers.forEach((w) => w());
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
    notify();
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
    notify();
  });
  let done = false;
  const exited = new Promise<CliResult>((resolve) => {
    child.on("close", (code) => {
      done = true;
      notify();
      resolve({ code, stdout, stderr });
    });
  });
  const lines = () => stdout.split("\n").slice(0, -1);
  return {
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    lines,
    exited,
    signal: (sig) => void child.kill(sig),
    waitForLines(n, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (lines().length >= n) {
            cleanup();
            resolve(lines());
          } else if (done) {
            cleanup();
            reject(
              new Error(
                `starcite ${args.join(" ")} exited before printing ${n} lines: stdout=${JSON.stringify(stdout)} stderr=${JSON.stringify(stderr)}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `starcite ${args.join(" ")}: ${n} lines not printed within ${timeoutMs} ms: stdout=${JSON.stringify(stdout)} stderr=${JSON.stringify(stderr)}`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          watchers.delete(check);
        };
        watchers.add(check);
        check();
      });
    },
  };
}

/** Runs `starcite <args>` to completion. */
export function cli(args: string[], options: { home: string; env?: Record<string, string> }): Promise<CliResult> {
  return startCli(args, options).exited;
}

/** A failure: one line on stderr, "error: <code>: <message>", nothing on stdout, and the exit code (1, or 2 for usage). */
export function expectError(result: CliResult, code: string, exit = 1): void {
  expect(result.code).toBe(exit);
  expect(result.stdout).toBe("");
  expect(result.stderr).toMatch(new RegExp(`^error: ${code}: [^\\n]+\\n$`));
}

export interface ConfiguredCli {
  /** The server, its database and an admin key; valid after beforeAll. */
  readonly s: TestServer;
  readonly key: string;
  readonly home: string;
  /** Runs starcite with this file's HOME, whose config points at the test server. */
  sc(...args: string[]): Promise<CliResult>;
}

/**
 * Registers beforeAll/afterAll for a CLI test file: a server with auth on, an admin key, and a temporary HOME
 * whose starcite config points at that server with that key.
 */
export function useConfiguredCli(): ConfiguredCli {
  const state = {} as { s: TestServer; key: string; home: string };
  beforeAll(async () => {
    state.s = await startTestServer({ auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET } });
    state.key = await adminKey(state.s.db);
    state.home = tempHome();
    await cli(["config", "set", "endpoint", `${state.s.url}/graphql`], { home: state.home });
    await cli(["config", "set", "api-key", state.key], { home: state.home });
  });
  afterAll(async () => {
    await state.s?.close();
    if (state.home) fs.rmSync(state.home, { recursive: true, force: true });
  });
  return {
    get s() {
      return state.s;
    },
    get key() {
      return state.key;
    },
    get home() {
      return state.home;
    },
    sc: (...args) => cli(args, { home: state.home }),
  };
}
