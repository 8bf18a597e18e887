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
  await sql.unsafe(`grant select, insert, update, delete on all tables in schema starcite to ${role}`);
  await sql`select starcite.create_tenant('acme')`;
  await sql`select starcite.create_tenant('globex')`;
  await sql`select * from starcite.create_session('ses_rls_acme', null, null, 'acme')`;
  await sql`select * from starcite.create_session('ses_rls_globex', null, null, 'globex')`;
  await sql`select * from starcite.append('ses_rls_acme', 'content', '{"secret":"acme"}', tenant_id => 'acme')`;
  await sql`select * from starcite.append('ses_rls_globex', 'content', '{"secret":"globex"}', tenant_id => 'globex')`;
  await sql`select * from starcite.create_api_key('acme', 'acme key')`;
  await sql`select * from starcite.create_api_key('globex', 'globex key')`;
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
  await db.sql
    .begin(async (tx) => {
      await tx.unsafe(`set local role ${role}`);
      await tx`select set_config('starcite.tenant_id', ${tenant}, true)`;
      result = await fn(tx as unknown as TestDatabase["sql"]);
      throw new Rollback();
    })
    .catch((e: unknown) => {
      if (!(e instanceof Rollback)) throw e;
    });
  return result;
}
class Rollback extends Error {}

type Tx = TestDatabase["sql"];

/** The SQLSTATE a statement fails with (in a savepoint, so that the transaction goes on), or "ok". */
const outcome = (tx: Tx, statement: (sp: Tx) => Promise<unknown>) =>
  (tx as unknown as { savepoint(fn: (sp: Tx) => Promise<unknown>): Promise<unknown> }).savepoint(statement).then(
    () => "ok",
    (e: { code?: string }) => e.code,
  );

test("raw selects see only the acting tenant's row of every tenant-owned table", async () => {
  const seen = await asTenant("acme", async (tx) => ({
    tenants: (await tx`select id from starcite.tenants order by id`).map((r) => r.id),
    keys: (await tx`select name from starcite.api_keys order by name`).map((r) => r.name),
    sessions: (await tx`select id from starcite.sessions order by id`).map((r) => r.id),
    events: (await tx`select payload from starcite.events`).map((r) => r.payload),
  }));
  expect(seen).toEqual({ tenants: ["acme"], keys: ["acme key"], sessions: ["ses_rls_acme"], events: [{ secret: "acme" }] });
});

test("raw writes cannot touch another tenant's rows: updates and deletes find nothing, inserts are refused", async () => {
  const writes = await asTenant("acme", async (tx) => ({
    renameTenant: (await tx`update starcite.tenants set name = 'hijacked' where id = 'globex'`).count,
    deleteTenant: (await tx`delete from starcite.tenants where id = 'globex'`).count,
    insertTenant: await outcome(tx, (sp) => sp`insert into starcite.tenants (id) values ('initech')`),
    moveTenant: await outcome(tx, (sp) => sp`update starcite.tenants set id = 'globex2' where id = 'acme'`),
    revokeKey: (await tx`update starcite.api_keys set revoked_at = now() where tenant_id = 'globex'`).count,
    stealKey: await outcome(tx, (sp) => sp`update starcite.api_keys set tenant_id = 'globex' where tenant_id = 'acme'`),
    retitle: (await tx`update starcite.sessions set title = 'hijacked' where id = 'ses_rls_globex'`).count,
    event: await outcome(
      tx,
      (sp) => sp`insert into starcite.events (session_id, seq, type, payload) values ('ses_rls_globex', 99, 'x', '{}')`,
    ),
  }));
  expect(writes).toEqual({
    renameTenant: 0,
    deleteTenant: 0,
    insertTenant: "42501",
    moveTenant: "42501",
    revokeKey: 0,
    stealKey: "42501",
    retitle: 0,
    event: "42501",
  });
  // And the owner sees globex exactly as it was.
  const [globex] = await db.sql`select name from starcite.tenants where id = 'globex'`;
  expect(globex).toEqual({ name: null });
  const [key] = await db.sql`select revoked_at from starcite.api_keys where tenant_id = 'globex'`;
  expect(key).toEqual({ revoked_at: null });
});

test("writes to the acting tenant's own rows go through", async () => {
  const own = await asTenant("acme", async (tx) => ({
    renameTenant: (await tx`update starcite.tenants set name = 'Acme Inc' where id = 'acme'`).count,
    revokeKey: (await tx`update starcite.api_keys set revoked_at = now() where tenant_id = 'acme'`).count,
  }));
  expect(own).toEqual({ renameTenant: 1, revokeKey: 1 });
});

test("the tenant_id argument cannot step past RLS for a non-owner role", async () => {
  const code = await asTenant("acme", async (tx) =>
    tx`select * from starcite.read('ses_rls_globex', 0, 10, 'globex')`.then(
      () => "ok",
      (e: { code?: string }) => e.code,
    ),
  );
  expect(code).toBe("SC100");
  const inserted = await asTenant("acme", async (tx) =>
    tx`insert into starcite.sessions (id, tenant_id) values ('ses_rls_sneaky', 'globex')`.then(
      () => "ok",
      (e: { code?: string }) => e.code,
    ),
  );
  expect(inserted).toBe("42501"); // new row violates row-level security policy
});

test("the functions still work for the acting tenant under RLS", async () => {
  const rows = await asTenant("acme", async (tx) => {
    await tx`select * from starcite.append('ses_rls_acme', 'content', '{"n":2}')`;
    return tx`select seq from starcite.read('ses_rls_acme')`;
  });
  expect(rows.map((r) => r.seq)).toEqual([1, 2]);
});
