import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

/** Row Level Security: a non-owner role sees and writes only its tenant's rows, even with raw SQL. */
let db: TestDatabase;
const role = `starcite_app_${Math.random().toString(36).slice(2, 8)}`;

beforeAll(async () => {
  db = await createTestDatabase();
  const sql = db.sql;
  await sql.unsafe(`create role ${role} nologin`);
  await sql.unsafe(`grant usage on schema starcite to ${role}`);
  await sql.unsafe(`grant select, insert, update on all tables in schema starcite to ${role}`);
  await sql`select starcite.create_tenant('acme')`;
  await sql`select starcite.create_tenant('globex')`;
  await sql`select * from starcite.create_session('ses_rls_acme', null, null, 'acme')`;
  await sql`select * from starcite.create_session('ses_rls_globex', null, null, 'globex')`;
  await sql`select * from starcite.append('ses_rls_acme', 'content', '{"secret":"acme"}', tenant_id => 'acme')`;
  await sql`select * from starcite.append('ses_rls_globex', 'content', '{"secret":"globex"}', tenant_id => 'globex')`;
});

afterAll(async () => {
  if (db) {
    await db.sql.unsafe(`drop owned by ${role}`).catch(() => {});
    await db.sql.unsafe(`drop role if exists ${role}`).catch(() => {});
    await db.drop();
  }
});

/** Runs `fn` as the application role acting for `tenant`, in a transaction that is rolled back. */
async function asTenant<T>(tenant: string, fn: (tx: TestDatabase["sql"]) => Promise<T>): Promise<T> {
  let result!: T;
  await db.sql.begin(async (tx) => {
    await tx.unsafe(`set local role ${role}`);
    await tx`select set_config('starcite.tenant_id', ${tenant}, true)`;
    result = await fn(tx as unknown as TestDatabase["sql"]);
    throw new Rollback();
  }).catch((e: unknown) => {
    if (!(e instanceof Rollback)) throw e;
  });
  return result;
}
class Rollback extends Error {}

test("raw selects see only the acting tenant's sessions, events and keys", async () => {
  const seen = await asTenant("acme", async (tx) => ({
    sessions: (await tx`select id from starcite.sessions order by id`).map((r) => r.id),
    events: (await tx`select payload from starcite.events`).map((r) => r.payload),
  }));
  expect(seen.sessions).toEqual(["ses_rls_acme"]);
  expect(seen.events).toEqual([{ secret: "acme" }]);
});

test("the tenant_id argument cannot step past RLS for a non-owner role", async () => {
  const code = await asTenant("acme", async (tx) =>
    tx`select * from starcite.read('ses_rls_globex', 0, 10, 'globex')`.then(() => "ok", (e: { code?: string }) => e.code));
  expect(code).toBe("SC100");
  const inserted = await asTenant("acme", async (tx) =>
    tx`insert into starcite.sessions (id, tenant_id) values ('ses_rls_sneaky', 'globex')`.then(() => "ok", (e: { code?: string }) => e.code));
  expect(inserted).toBe("42501"); // new row violates row-level security policy
});

test("the functions still work for the acting tenant under RLS", async () => {
  const rows = await asTenant("acme", async (tx) => {
    await tx`select * from starcite.append('ses_rls_acme', 'content', '{"n":2}')`;
    return tx`select seq from starcite.read('ses_rls_acme')`;
  });
  expect(rows.map((r) => r.seq)).toEqual([1, 2]);
});
