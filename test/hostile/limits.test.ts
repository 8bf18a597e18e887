/**
 * The TypeScript limits restate the SQL layer's `starcite.limits()`: compare them, so the two cannot drift (a
 * refusal in TypeScript must be the refusal SQL would give).
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { EVENT_LIMITS, KEY_LIMITS, SESSION_LIMITS } from "../../src/shared/limits.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let db: TestDatabase;
let sqlLimits: Map<string, number>;

beforeAll(async () => {
  db = await createTestDatabase();
  const rows = await db.sql<{ name: string; value: number }[]>`select name, value::int as value from starcite.limits()`;
  sqlLimits = new Map(rows.map((r) => [r.name, r.value]));
});

afterAll(async () => {
  await db?.drop();
});

test.each([
  ["event_payload_bytes", EVENT_LIMITS.payloadBytes],
  ["event_metadata_bytes", EVENT_LIMITS.metadataBytes],
  ["event_refs_bytes", EVENT_LIMITS.refsBytes],
  ["event_type_chars", EVENT_LIMITS.typeChars],
  ["event_actor_chars", EVENT_LIMITS.textChars],
  ["event_source_chars", EVENT_LIMITS.textChars],
  ["idempotency_key_chars", EVENT_LIMITS.textChars],
  ["producer_id_chars", EVENT_LIMITS.textChars],
  ["events_per_call", EVENT_LIMITS.batchEvents],
  ["session_title_chars", SESSION_LIMITS.titleChars],
  ["session_metadata_bytes", SESSION_LIMITS.metadataBytes],
  ["events_per_read", SESSION_LIMITS.pageMax],
  ["sessions_per_list", SESSION_LIMITS.pageMax],
  ["api_key_name_chars", KEY_LIMITS.nameChars],
])("%s: SQL and TypeScript agree", (name, ts) => {
  expect(sqlLimits.get(name), name).toBe(ts);
});

test("the session id pattern accepts and refuses what SQL's valid_session_id does", async () => {
  const max = sqlLimits.get("session_id_chars")!;
  const samples = ["a", "A.b:c-d_e", "9", "a".repeat(max), "a".repeat(max + 1), "", "-a", ".a", "a b", "a/b", "é"];
  for (const id of samples) {
    const [row] = await db.sql<{ ok: boolean }[]>`select starcite.valid_session_id(${id}) as ok`;
    expect(SESSION_LIMITS.idPattern.test(id), JSON.stringify(id)).toBe(row!.ok);
  }
  // Postgres cannot carry NUL at all; TypeScript refuses it before SQL.
  expect(SESSION_LIMITS.idPattern.test("a\u0000")).toBe(false);
});
