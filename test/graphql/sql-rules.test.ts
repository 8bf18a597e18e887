/**
 * Rules that live in SQL, seen through a real server: text Postgres cannot store is invalid_event on the
 * group-commit path too, and a keys:admin key can only hand out scopes it holds itself.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createSession, getSession } from "../../src/db/sessions.ts";
import { read } from "../../src/db/events.ts";
import { apiKey, bearer, startAuthServer } from "../auth/helpers.ts";
import { startTestServer, type GraphQLResponse, type TestServer } from "../helpers/server.ts";
import { within } from "../sql/_support.ts";

const APPEND = `mutation A($s: ID!, $e: AppendInput!) { append(sessionId: $s, event: $e) { seq lastSeq deduped } }`;

describe("text Postgres cannot store", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  test("20 concurrent appends, half with a lone surrogate in actor: those get invalid_event, the rest append", async () => {
    await createSession(t.db.sql, { id: "ses_surrogates" });
    const batches = async () =>
      Number(/^starcite_append_batch_size_count (\S+)$/m.exec(await (await fetch(`${t.url}/metrics`)).text())![1]);
    const batchesBefore = await batches();
    const runs = Array.from({ length: 20 }, (_, i) => ({
      bad: i % 2 === 1,
      run: () => t.gql(APPEND, { s: "ses_surrogates", e: { payload: { i }, actor: i % 2 === 1 ? "agent:\ud800" : "agent:fine" } }),
    }));
    const results: GraphQLResponse[] = await within(15_000, "the appends", Promise.all(runs.map((r) => r.run())));
    // Fewer transactions than appends: most went through append_items together, as the group commit sends them.
    expect((await batches()) - batchesBefore).toBeLessThan(20);
    results.forEach((res, i) => {
      if (runs[i]!.bad) {
        expect(res.errors?.[0]?.extensions?.code, JSON.stringify(res)).toBe("invalid_event");
      } else {
        expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
      }
    });
    const events = await read(t.db.sql, "ses_surrogates");
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(new Set(events.map((e) => e.actor))).toEqual(new Set(["agent:fine"]));
    expect(events.map((e) => (e.payload as { i: number }).i).sort((a, b) => a - b)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect((await getSession(t.db.sql, "ses_surrogates"))?.lastSeq).toBe(10);
  });
});

describe("createApiKey grants only scopes the creator holds", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startAuthServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  const CREATE = `mutation C($name: String!, $scopes: [String!]) { createApiKey(name: $name, scopes: $scopes) { key { scopes } } }`;
  const create = (key: string, name: string, scopes?: string[]) =>
    t.gql<{ createApiKey: { key: { scopes: string[] } } }>(CREATE, { name, scopes }, bearer(key));

  test("a keys:admin key without session scopes can create keys:admin keys only", async () => {
    const admin = await apiKey(t.db.sql, "scoped", ["keys:admin"]);
    for (const scopes of [["session:read"], ["keys:admin", "session:append"], ["admin"], undefined]) {
      const res = await create(admin, "escalation", scopes);
      expect(res.errors?.[0]?.extensions?.code, `${JSON.stringify(scopes)}: ${JSON.stringify(res)}`).toBe("forbidden_scope");
    }
    const denied = await create(admin, "escalation", ["keys:admin", "session:create", "session:read"]);
    expect(denied.errors?.[0]?.extensions).toMatchObject({ code: "forbidden_scope", required: ["session:create", "session:read"] });
    const ok = await create(admin, "peer", ["keys:admin"]);
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.createApiKey.key.scopes).toEqual(["keys:admin"]);
  });

  test("a key with session scopes and keys:admin may pass on any of them, and the default set", async () => {
    const key = await apiKey(t.db.sql, "scoped2", ["keys:admin", "session:read", "session:append", "session:create"]);
    expect((await create(key, "reader", ["session:read"])).data?.createApiKey.key.scopes).toEqual(["session:read"]);
    expect((await create(key, "default")).data?.createApiKey.key.scopes).toEqual(["session:append", "session:create", "session:read"]);
    expect((await create(key, "up", ["admin"])).errors?.[0]?.extensions?.code).toBe("forbidden_scope");
  });

  test("an admin key may grant anything, and SQL without creator_scopes (a trusted caller) too", async () => {
    const admin = await apiKey(t.db.sql, "root", ["admin", "keys:admin"]);
    expect((await create(admin, "ops", ["session:read", "admin"])).data?.createApiKey.key.scopes).toEqual(["admin", "session:read"]);
    const [row] = await t.db.sql<{ scopes: string[] }[]>`
      select scopes from starcite.create_api_key('root', 'by dba', '{admin,session:append}')`;
    expect(row!.scopes).toEqual(["admin", "session:append"]);
    await expect(
      t.db.sql`select * from starcite.create_api_key('root', 'sql', '{session:read}', creator_scopes => '{keys:admin}')`,
    ).rejects.toMatchObject({ code: "SC301", message: "forbidden_scope: cannot grant scopes you do not hold: session:read" });
  });
});
