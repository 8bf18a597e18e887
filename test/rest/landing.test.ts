/**
 * The landing page's curl and websocat calls, verbatim, run by bash against a real server. Only the hosts
 * are substituted, and the trailing `\` the page lost after its `-H "Authorization: ..."` lines is restored.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ROOT } from "../helpers/node.ts";
import { startTestServer, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";
import { adminKey } from "../sdk/support.ts";
import { websocatBin } from "./support.ts";

/** Copied from the public page (its "Code examples", curl tab), line for line. */
const PAGE = `# Create a session
curl -X POST https://acme.starcite.io/v1/sessions \\
-H "Authorization: Bearer $STARCITE_API_KEY"
-H "Content-Type: application/json"
-d '{"id":"ses_demo","title":"Draft contract"}'
# Append an event
curl -X POST https://acme.starcite.io/v1/sessions/ses_demo/append \\
-H "Authorization: Bearer $STARCITE_API_KEY"
-H "Content-Type: application/json"
-d '{"type":"content","payload":{"text":"Found 8 relevant cases..."},"producer_id":"curl-demo","producer_seq":1}'
# Mint a session token for browser/WSS reads
curl -X POST https://starcite.ai/api/v1/session-tokens \\
-H "Authorization: Bearer $STARCITE_API_KEY"
-H "Content-Type: application/json"
-d '{"session_id":"ses_demo","principal":{"type":"agent","id":"drafter"},"scopes":["session:read"],"ttl_seconds":3600}'
# Tail with websocat
websocat "wss://api.starcite.io/v1/sessions/ses_demo/tail?cursor=0&access_token=$SESSION_TOKEN"`;

/** Where the page text lives when this runs inside the workplace (absent on a plain clone: then the copy above is used as is). */
const SEED_PAGES = [path.resolve(ROOT, "../shared/seed/starcite-landing-page.txt"), "/work/shared/seed/starcite-landing-page.txt"];

/** The page's commands as shell lines: continuations restored, hosts pointed at the test server. */
function commands(page: string, httpBase: string, wsBase: string): Record<string, string> {
  const lines = page.split("\n");
  const out: Record<string, string> = {};
  let title = "";
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.startsWith("# ")) {
      title = line.slice(2);
      out[title] = "";
      continue;
    }
    if (/^-/.test(lines[i + 1] ?? "") && !line.endsWith("\\")) line += " \\";
    out[title] += `${line}\n`;
  }
  for (const key of Object.keys(out)) {
    out[key] = out[key]!.replaceAll("https://acme.starcite.io", httpBase)
      .replaceAll("https://starcite.ai", httpBase)
      .replaceAll("wss://api.starcite.io", wsBase);
  }
  return out;
}

let s: TestServer;
let env: NodeJS.ProcessEnv;
let bin: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  s = await startTestServer({ auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET } });
  bin = websocatBin();
  env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, STARCITE_API_KEY: await adminKey(s.db) };
});
afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await s?.close();
  if (bin) fs.rmSync(bin, { recursive: true, force: true });
});

function bash(script: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-e", "-c", script], { env: { ...env, ...extraEnv } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

test("the page's snippet is the one this test runs", () => {
  const page = SEED_PAGES.find((p) => fs.existsSync(p));
  if (page) expect(fs.readFileSync(page, "utf8")).toContain(PAGE);
  // The page lost three line continuations per curl call; the test restores exactly those.
  const cmds = commands(PAGE, "http://h", "ws://h");
  expect(cmds["Create a session"]).toBe(
    `curl -X POST http://h/v1/sessions \\\n-H "Authorization: Bearer $STARCITE_API_KEY" \\\n` +
      `-H "Content-Type: application/json" \\\n-d '{"id":"ses_demo","title":"Draft contract"}'\n`,
  );
});

test("create, append with producer_id/producer_seq, mint a token, websocat tail: replay then live; the retried append dedupes", async () => {
  const cmds = commands(PAGE, s.url, s.url.replace(/^http/, "ws"));

  const created = await bash(cmds["Create a session"]!);
  expect(created.code, created.stderr).toBe(0);
  expect(JSON.parse(created.stdout)).toMatchObject({ id: "ses_demo", title: "Draft contract", last_seq: 0, archived: false, version: 1 });

  const appended = await bash(cmds["Append an event"]!);
  expect(JSON.parse(appended.stdout)).toEqual({ seq: 1, last_seq: 1, deduped: false });

  const minted = await bash(cmds["Mint a session token for browser/WSS reads"]!);
  const token = JSON.parse(minted.stdout) as { token: string; expires_in: number };
  expect(token).toMatchObject({ token: expect.stringMatching(/^ey/), expires_in: 3600 });

  // websocat runs until interrupted: read its lines as they come.
  const tail = spawn("bash", ["-c", cmds["Tail with websocat"]!], { env: { ...env, SESSION_TOKEN: token.token } });
  children.push(tail);
  const lines: string[] = [];
  let stderr = "";
  const watchers = new Set<() => void>();
  tail.stdout.setEncoding("utf8");
  let buf = "";
  tail.stdout.on("data", (c: string) => {
    buf += c;
    const parts = buf.split("\n");
    buf = parts.pop()!;
    lines.push(...parts);
    watchers.forEach((w) => w());
  });
  tail.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const waitLines = (n: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (lines.length >= n) {
          watchers.delete(check);
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(() => reject(new Error(`websocat printed ${JSON.stringify(lines)} (stderr ${stderr})`)), 15_000);
      watchers.add(check);
      check();
    });

  // Replay, then the catch-up control frame.
  await waitLines(2);
  const replayed = JSON.parse(lines[0]!);
  expect(replayed).toMatchObject({
    session_id: "ses_demo",
    seq: 1,
    type: "content",
    payload: { text: "Found 8 relevant cases..." },
    producer_id: "curl-demo",
    producer_seq: 1,
  });
  expect(JSON.parse(lines[1]!)).toEqual({ control: "caught_up", cursor: 1 });

  // The page's append again is a retry: deduped, nothing new reaches the tail.
  const retried = await bash(cmds["Append an event"]!);
  expect(JSON.parse(retried.stdout)).toEqual({ seq: 1, last_seq: 1, deduped: true });

  // The producer's next event arrives live.
  const next = await bash(cmds["Append an event"]!.replace('"producer_seq":1', '"producer_seq":2').replace("Found 8", "Read 3 of 8"));
  expect(JSON.parse(next.stdout)).toEqual({ seq: 2, last_seq: 2, deduped: false });
  await waitLines(3);
  expect(JSON.parse(lines[2]!)).toMatchObject({ seq: 2, payload: { text: "Read 3 of 8 relevant cases..." } });
  expect(lines).toHaveLength(3);
  tail.kill("SIGTERM");
});
