/**
 * docs/durable-streams.md's shell blocks, run by bash in order against a real server (host substituted, an API key in
 * $STARCITE_API_KEY). Each `# →` line must appear in the command's output, in order: `…` stands for anything, and a
 * JSON line matches as a subset. A streaming command (curl -N) is stopped once everything it should print appeared.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ROOT } from "../helpers/node.ts";
import { startTestServer, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";
import { adminKey } from "../sdk/support.ts";

const DOC = fs.readFileSync(path.join(ROOT, "docs/durable-streams.md"), "utf8");

interface Command {
  script: string;
  expected: string[];
}

function commands(): Command[] {
  const out: Command[] = [];
  for (const [, block] of DOC.matchAll(/```sh\n([\s\S]*?)```/g)) {
    if (!/\bcurl\b/.test(block!)) continue;
    let current: Command | null = null;
    let continued = false;
    for (const line of block!.split("\n")) {
      if (line.startsWith("# → ")) current!.expected.push(line.slice(4));
      else if (continued) {
        current!.script += `\n${line}`;
        continued = line.endsWith("\\");
      } else if (line.trim() !== "" && !line.startsWith("#")) {
        current = { script: line, expected: [] };
        out.push(current);
        continued = line.endsWith("\\");
      }
    }
  }
  return out;
}

/** Whether an output line is what the doc shows. */
function matches(want: string, got: string): boolean {
  if (want.includes("…")) {
    const pattern = want
      .split("…")
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*");
    return new RegExp(`^${pattern}$`).test(got);
  }
  if (/^[[{]/.test(want)) {
    try {
      expect(JSON.parse(got)).toMatchObject(JSON.parse(want));
      return true;
    } catch {
      return false;
    }
  }
  return got === want;
}

/** How many of `expected` appear in `lines`, in order. */
function matched(expected: string[], lines: string[]): number {
  let i = 0;
  for (const line of lines) if (i < expected.length && matches(expected[i]!, line)) i++;
  return i;
}

let s: TestServer;
const env: NodeJS.ProcessEnv = {};

beforeAll(async () => {
  s = await startTestServer({ auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET } });
  Object.assign(env, process.env, { STARCITE_API_KEY: await adminKey(s.db, "default") });
});

afterAll(async () => {
  await s?.close();
});

function run(script: string, expected: string[], streaming: boolean): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", script], { env });
    let stdout = "";
    const lines = () =>
      stdout
        .split("\n")
        .map((l) => l.replace(/\r$/, ""))
        .filter((l) => l.trim() !== "" && !l.startsWith(":"));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${script}\nprinted ${JSON.stringify(lines())}`));
    }, 15_000);
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
      if (streaming && matched(expected, lines()) === expected.length) child.kill("SIGTERM");
    });
    child.on("close", () => {
      clearTimeout(timer);
      resolve(lines());
    });
  });
}

test("every curl call in docs/durable-streams.md runs and prints what the doc shows", async () => {
  const all = commands();
  expect(all.length).toBeGreaterThanOrEqual(6);
  for (const { script, expected } of all) {
    const local = script.replaceAll("http://localhost:4000", s.url);
    const output = await run(local, expected, /curl [^|]*-\w*N\b/.test(script));
    expect(
      matched(expected, output),
      `${script}\nexpected ${JSON.stringify(expected, null, 1)}\ngot ${JSON.stringify(output, null, 1)}`,
    ).toBe(expected.length);
  }
});
