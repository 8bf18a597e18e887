import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { inject } from "vitest";
import { createPool, type Sql } from "../../src/db/client.ts";

export interface TestDatabase {
  url: string;
  name: string;
  /** A pool on the test database, with the data layer's conventions. */
  sql: Sql;
  drop(): Promise<void>;
}

function adminPool(): postgres.Sql {
  return postgres(inject("pgAdminUrl"), { max: 1, onnotice: () => {} });
}

/** A database of its own for one test file, cloned from the migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString("hex")}`;
  const admin = adminPool();
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.unsafe(`create database ${name} template ${inject("pgTemplate")}`);
      break;
    } catch (error) {
      // Two files cloning at the same instant can see the template "being accessed by other users".
      if (attempt >= 20 || (error as { code?: string }).code !== "55006") throw error;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    }
  }
  await admin.end();
  const url = new URL(inject("pgAdminUrl"));
  url.pathname = `/${name}`;
  const sql = createPool(url.toString(), { max: 20 });
  return {
    url: url.toString(),
    name,
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      const a = adminPool();
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/** An empty (unmigrated) database, for migration tests. */
export async function createEmptyDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `e_${randomBytes(6).toString("hex")}`;
  const admin = adminPool();
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(inject("pgAdminUrl"));
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = adminPool();
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}
