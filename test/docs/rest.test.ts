/**
 * docs/rest.md's shell blocks, run by bash in order against a real server (host substituted), each
 * command's output checked against the `# →` lines after it (a JSON subset, or the exact line). Commands
 * that stream (websocat, curl -N) are stopped once they printed as many lines as the doc shows.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ROOT } from "../helpers/node.ts";
import { startTestServer, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";
import { adminKey } from "../sdk/support.ts";
import { websocatBin } from "../rest/support.ts";

const DOC = fs.readFileSync(path.join(ROOT, "docs/rest.md"), "utf8");

interface Command {
  script: string;
  expected: string[];
}

function commands(): Command[] {
  const out: Command[] = [];
  for (const [, block] of DOC.matchAll(/```sh\n([\s\S]*?)```/g)) {
    if (!/\b(curl|websocat)\b/.test(block!)) continue;
    let current: Command | null = null;
    let continued = false;
    for (const line of block!.split("\n")) {
      if (line.startsWith("# → ")) {
        current!.expected.push(line.slice(4));
      } else if (continued) {
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

let s: TestServer;
let bin: string;
const env: NodeJS.ProcessEnv = {};

beforeAll(async () => {
  s = await startTestServer({ auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET } });
  bin = websocatBin();
  Object.assign(env, process.env, { PATH: `${bin}:${process.env.PATH}`, STARCITE_API_KEY: await adminKey(s.db, "default") });
});
afterAll(async () => {
  await s?.close();
  if (bin) fs.rmSync(bin, { recursive: true, force: true });
});

/** Runs a command; a streaming one is killed once it printed `lines` non-empty, non-comment lines. */
function run(script: string, lines: number, streaming: boolean): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", script], { env });
    let stdout = "";
    let stderr = "";
    const printed = () => stdout.split("\n").filter((l) => l.trim() !== "" && !l.startsWith(":"));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${script}\nprinted ${JSON.stringify(printed())}, stderr ${stderr}`));
    }, 15_000);
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
      if (streaming && printed().length >= lines) child.kill("SIGTERM");
    });
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", () => {
      clearTimeout(timer);
      resolve(printed());
    });
  });
}

test("every curl and websocat call in docs/rest.md runs and prints what the doc shows", async () => {
  const all = commands();
  expect(all.length).toBeGreaterThanOrEqual(15);
  for (const { script, expected } of all) {
    const local = script.replaceAll("http://localhost:4000", s.url).replaceAll("ws://localhost:4000", s.url.replace(/^http/, "ws"));
    const streaming = /\bwebsocat\b|curl [^|]*-N\b/.test(script);
    const output = await run(local, expected.length, streaming);
    if (!streaming) expect(output.length, script).toBe(1);
    expect(output.length, `${script}\n${output.join("\n")}`).toBeGreaterThanOrEqual(expected.length);
    expected.forEach((want, i) => {
      const got = output[i]!;
      // `{...}` and `data: {...}`: the same prefix, and the JSON a superset of the doc's; anything else as is.
      const brace = want.indexOf("{");
      if (brace >= 0) {
        expect(got.slice(0, brace), script).toBe(want.slice(0, brace));
        expect(JSON.parse(got.slice(brace)), script).toMatchObject(JSON.parse(want.slice(brace)));
      } else {
        expect(got, script).toBe(want);
      }
    });
    // The doc's token is the one the tails use.
    const token = /"token":"([^"]+)"/.exec(output[0] ?? "")?.[1];
    if (token) env.SESSION_TOKEN = token;
  }
  expect(env.SESSION_TOKEN).toBeTruthy();
});
