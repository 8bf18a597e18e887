import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestServer, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";
import { adminKey } from "../sdk/support.ts";
import { cli, startCli, tempHome } from "./support.ts";

let s: TestServer;
let STARCITE_API_KEY: string;
let home: string;

beforeAll(async () => {
  s = await startTestServer({ auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET } });
  STARCITE_API_KEY = await adminKey(s.db);
  home = tempHome();
});
afterAll(async () => {
  await s?.close();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

const ok = (stdout: string) => ({ code: 0, stdout, stderr: "" });

test("the landing page's CLI session, verbatim, against a real server", async () => {
  // # Configure once
  expect(await cli(["config", "set", "endpoint", s.url], { home })).toEqual(ok(""));
  expect(await cli(["config", "set", "api-key", STARCITE_API_KEY], { home })).toEqual(ok(""));
  const configFile = path.join(home, ".starcite", "config.json");
  expect(JSON.parse(fs.readFileSync(configFile, "utf8"))).toEqual({ endpoint: s.url, apiKey: STARCITE_API_KEY });
  expect(fs.statSync(configFile).mode & 0o777).toBe(0o600);

  // # Create a session
  expect(await cli(["create", "--id", "ses_demo", "--title", "Draft contract"], { home })).toEqual(ok("ses_demo\n"));

  // # Append an event
  expect(await cli(["append", "ses_demo", "--agent", "drafter", "--text", "Drafting clause 4.2..."], { home })).toEqual(
    ok("seq=1 deduped=false\n"),
  );

  // # Tail with cursor replay + live follow
  const tail = startCli(["tail", "ses_demo", "--cursor", "0", "--limit", "5"], { home });
  expect(await tail.waitForLines(1)).toEqual(["[drafter] Drafting clause 4.2..."]);
  // It follows live until Ctrl-C.
  tail.signal("SIGINT");
  expect(await tail.exited).toEqual(ok("[drafter] Drafting clause 4.2...\n"));
});

test("tail --limit 5 follows live and stops by itself after the fifth event", async () => {
  const tail = startCli(["tail", "ses_demo", "--cursor", "0", "--limit", "5"], { home });
  await tail.waitForLines(1);
  const turns = [
    ["--user", "alice", "Make the notice period 30 days."],
    ["--agent", "drafter", "Updated clause 4.2: 30 days notice."],
    ["--user", "alice", "Thanks."],
    ["--agent", "drafter", "Clause 4.3 next."],
  ] as const;
  for (const [flag, id, text] of turns) {
    expect(await cli(["append", "ses_demo", flag, id, "--text", text], { home })).toMatchObject({ code: 0, stderr: "" });
  }
  // The fifth event ends it: no Ctrl-C needed.
  expect(await tail.exited).toEqual(
    ok(
      [
        "[drafter] Drafting clause 4.2...",
        "[alice] Make the notice period 30 days.",
        "[drafter] Updated clause 4.2: 30 days notice.",
        "[alice] Thanks.",
        "[drafter] Clause 4.3 next.",
      ].join("\n") + "\n",
    ),
  );
});
