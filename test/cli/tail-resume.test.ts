import fs from "node:fs";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { RunningServer } from "../../src/server/index.ts";
import { Starcite } from "@starcite/sdk";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { freePort } from "../helpers/net.ts";
import { adminKey, startAuthServer, startProxy } from "../sdk/support.ts";
import { startCli, tempHome } from "./support.ts";

let db: TestDatabase;
let port: number;
let server: RunningServer | undefined;
let apiKey: string;
let home: string;
let admin: Starcite;

beforeAll(async () => {
  db = await createTestDatabase();
  port = await freePort();
  server = await startAuthServer(db, port);
  apiKey = await adminKey(db, "default");
  home = tempHome();
  admin = new Starcite({ baseUrl: `http://127.0.0.1:${port}`, apiKey, retry: { baseDelayMs: 20, maxDelayMs: 200 } });
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

const expected = (n: number) => Array.from({ length: n }, (_, i) => `[writer] line ${i + 1}`);

test("tail survives a server restart: it reconnects and resumes after its last printed event, no duplicate", async () => {
  const session = await admin.session({ identity: admin.agent({ id: "writer" }), id: "ses_restart" });
  for (let i = 1; i <= 3; i++) await session.append({ text: `line ${i}` });
  // Settings from the environment this time.
  const tail = startCli(["tail", "ses_restart"], {
    home,
    env: { STARCITE_ENDPOINT: `http://127.0.0.1:${port}/graphql`, STARCITE_API_KEY: apiKey },
  });
  expect(await tail.waitForLines(3)).toEqual(expected(3));

  await server!.close();
  server = undefined;
  // Written while the server is down (straight into the log): the resumed tail must replay these.
  for (let i = 4; i <= 5; i++)
    await db.sql`select * from starcite.append('ses_restart', 'content', ${db.sql.json({ text: `line ${i}` })}, 'agent:writer')`;
  server = await startAuthServer(db, port);
  for (let i = 6; i <= 8; i++) await session.append({ text: `line ${i}` });

  expect(await tail.waitForLines(8, 20_000)).toEqual(expected(8));
  tail.signal("SIGINT");
  const result = await tail.exited;
  expect(result.code).toBe(0);
  expect(result.stdout).toBe(expected(8).join("\n") + "\n");
  await session.close();
});

test("tail across dropped WebSockets: no gap, no duplicate", async () => {
  const proxy = await startProxy(port);
  const session = await admin.session({ identity: admin.agent({ id: "writer" }), id: "ses_dropped" });
  const tail = startCli(["tail", "ses_dropped", "--endpoint", proxy.url, "--api-key", apiKey, "--limit", "120"], { home });
  const write = async (from: number, to: number) => {
    for (let i = from; i <= to; i++) await session.append({ text: `line ${i}` });
  };
  await write(1, 40);
  await tail.waitForLines(40);
  // Cut the socket while events are being written, twice; the last event of each round is written only
  // after the cut, so the tail has to reconnect to print it.
  for (const [from, to] of [
    [41, 80],
    [81, 120],
  ] as const) {
    const writing = write(from, to - 1);
    await tail.waitForLines(from);
    proxy.dropAll();
    await writing;
    await write(to, to);
  }
  const result = await tail.exited; // --limit 120 ends it
  expect(result.code).toBe(0);
  expect(result.stdout).toBe(expected(120).join("\n") + "\n");
  expect(proxy.connections).toBeGreaterThanOrEqual(3);
  await session.close();
  await proxy.close();
});
