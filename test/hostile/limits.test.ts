/**
 * The TypeScript limits restate the SQL layer's: read the numbers out of the migrations and compare, so the two
 * cannot drift (a refusal in TypeScript must be the refusal SQL would give).
 */
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "vitest";
import { MIGRATIONS_DIR } from "../../src/db/migrate.ts";
import { EVENT_LIMITS, KEY_LIMITS, SESSION_LIMITS } from "../../src/shared/limits.ts";

const sql = fs.readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith(".sql")).sort()
  .map((f) => fs.readFileSync(path.join(MIGRATIONS_DIR, f), "utf8").split("-- migrate:down")[0]).join("\n");

test.each([
  ["payload bytes", String.raw`octet_length\(\(_e->'payload'\)::text\) > (\d+)`, EVENT_LIMITS.payloadBytes],
  ["metadata bytes", String.raw`octet_length\(\(_e->'metadata'\)::text\) > (\d+)`, EVENT_LIMITS.metadataBytes],
  ["refs bytes", String.raw`octet_length\(\(_e->'refs'\)::text\) > (\d+)`, EVENT_LIMITS.refsBytes],
  ["type characters", String.raw`char_length\(_e->>'type'\) > (\d+)`, EVENT_LIMITS.typeChars],
  ["actor characters", String.raw`char_length\(_e->>'actor'\) > (\d+)`, EVENT_LIMITS.textChars],
  ["source characters", String.raw`char_length\(_e->>'source'\) > (\d+)`, EVENT_LIMITS.textChars],
  ["idempotency_key characters", String.raw`char_length\(_e->>'idempotency_key'\) > (\d+)`, EVENT_LIMITS.textChars],
  ["producer_id characters", String.raw`char_length\(_e->>'producer_id'\) > (\d+)`, EVENT_LIMITS.textChars],
  ["events per call", String.raw`if _n > (\d+) then`, EVENT_LIMITS.batchEvents],
  ["session title characters", String.raw`char_length\(create_session\.title\) > (\d+)`, SESSION_LIMITS.titleChars],
  ["session metadata bytes", String.raw`octet_length\(create_session\.metadata::text\) > (\d+)`, SESSION_LIMITS.metadataBytes],
  ["page size", String.raw`max_events > (\d+)`, SESSION_LIMITS.pageMax],
  ["key name characters", String.raw`char_length\(create_api_key\.name\) not between 1 and (\d+)`, KEY_LIMITS.nameChars],
])("%s: SQL and TypeScript agree", (_what, pattern, ts) => {
  const found = [...sql.matchAll(new RegExp(pattern, "g"))].map((m) => Number(m[1]));
  expect(found.length, pattern).toBeGreaterThan(0);
  // The newest definition wins (later migrations restate functions whole).
  expect(found.at(-1)).toBe(ts);
});

test("the session id pattern is SQL's", () => {
  expect(sql).toContain("'^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$'");
  expect(SESSION_LIMITS.idPattern.source).toBe("^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$");
});
