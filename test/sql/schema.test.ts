/**
 * db/ holds the one readable definition of every SQL object (one file each, applied in db/build-order.txt's
 * order). The baseline migration is those files concatenated (`npm run db:build`), the committed
 * db/schema.sql is the catalog after every migration (`npm run db:schema`), and loading the files directly
 * gives exactly the catalog the migrations give: a change to one without the others fails here.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { afterAll, beforeAll, expect, test } from "vitest";
import { dumpSchema } from "../../src/db/catalog.ts";
import { createPool } from "../../src/db/client.ts";
import {
  BASELINE_FILE,
  baselineMigration,
  MIGRATIONS_DIR,
  SCHEMA_FILE,
  schemaSource,
  sourceFiles,
  sqlFilesOnDisk,
} from "../../src/db/source.ts";
import { createEmptyDatabase, createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { ROOT } from "../helpers/node.ts";

let migrated: TestDatabase;
let migratedDump: string;

beforeAll(async () => {
  migrated = await createTestDatabase();
  migratedDump = await dumpSchema(migrated.sql);
});

afterAll(async () => {
  await migrated?.drop();
});

test("db/build-order.txt lists every source file exactly once, and nothing else", () => {
  const listed = sourceFiles();
  expect(new Set(listed).size, "a file is listed twice").toBe(listed.length);
  expect([...listed].sort()).toEqual(sqlFilesOnDisk());
});

test("each source file defines one object, the one it is named after", () => {
  for (const file of sourceFiles().filter((f) => /^(functions|tables|types|triggers)\//.test(f))) {
    const name = file.replace(/^.*\//, "").replace(/\.sql$/, "");
    const text = fs.readFileSync(new URL(`../../db/${file}`, import.meta.url), "utf8");
    const created = [...text.matchAll(/^create (?:function|table|type|trigger) (?:starcite\.)?([a-z_]+)/gm)].map((m) => m[1]);
    expect(created, file).toEqual([name]);
  }
});

test("while nothing is released, db/migrations holds only the baseline, built from the files and not committed", () => {
  expect(fs.readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith(".sql"))).toEqual([BASELINE_FILE.replace(/^.*\//, "")]);
  expect(fs.readFileSync(BASELINE_FILE, "utf8")).toBe(baselineMigration());
  // Committed, it would restate every body in db/functions; .gitignore keeps it out until the first release.
  const ignored = spawnSync("git", ["check-ignore", "-q", BASELINE_FILE], { cwd: ROOT });
  if (ignored.error === undefined && fs.existsSync(`${ROOT}/.git`)) expect(ignored.status, "the baseline is git-ignored").toBe(0);
});

test("db/schema.sql is the catalog of a migrated database (npm run db:schema writes it)", () => {
  expect(fs.readFileSync(SCHEMA_FILE, "utf8"), "run npm run db:schema").toBe(migratedDump);
});

test("the source files loaded directly give the same catalog as the migrations", async () => {
  const scratch = await createEmptyDatabase();
  const sql = createPool(scratch.url, { max: 1 });
  try {
    await sql.unsafe(schemaSource()).simple();
    expect(await dumpSchema(sql)).toBe(migratedDump);
  } finally {
    await sql.end();
    await scratch.drop();
  }
});

test("the snapshot has every kind of object, each kind in name order", () => {
  const text = migratedDump;
  for (const section of [
    "-- Schema",
    "-- Types",
    "-- Tables",
    "-- Row Level Security policies",
    "-- Indexes",
    "-- Functions",
    "-- Triggers",
  ]) {
    expect(text).toContain(`\n${section}\n`);
  }
  const functions = [...text.matchAll(/^-- starcite\.([a-z_]+)\(/gm)].map((m) => m[1]!);
  expect(functions.length).toBeGreaterThan(30);
  expect(functions).toEqual([...functions].sort());
  expect(text).toMatch(/^alter table starcite\.tenants enable row level security;$/m);
  expect(text).toMatch(/^create policy tenants_tenant_isolation on starcite\.tenants$/m);
});
