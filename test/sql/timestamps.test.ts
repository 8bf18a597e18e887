import { afterAll, beforeAll, expect, test } from "vitest";
import { isoTimestamp } from "../../src/db/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

/** timestamptz comes back as ISO-8601 UTC with exactly six fractional digits, whatever Postgres trimmed. */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

test("every fraction length Postgres writes, and none, read back through the pool", async () => {
  const cases: [string, string][] = [
    ["2026-12-02 11:50:14+00", "2026-12-02T11:50:14.000000Z"],
    ["2026-12-02 11:50:14.1+00", "2026-12-02T11:50:14.100000Z"],
    ["2026-12-02 11:50:14.12+00", "2026-12-02T11:50:14.120000Z"],
    ["2026-12-02 11:50:14.123+00", "2026-12-02T11:50:14.123000Z"],
    ["2026-12-02 11:50:14.1234+00", "2026-12-02T11:50:14.123400Z"],
    ["2026-12-02 11:50:14.12345+00", "2026-12-02T11:50:14.123450Z"],
    ["2026-12-02 11:50:14.123456+00", "2026-12-02T11:50:14.123456Z"],
    ["1999-01-01 00:00:00.000001+00", "1999-01-01T00:00:00.000001Z"],
  ];
  for (const [input, iso] of cases) {
    const [row] = await db.sql<{ at: string }[]>`select ${input}::timestamptz as at`;
    expect(row!.at).toBe(iso);
    expect(isoTimestamp(input)).toBe(iso);
  }
});

test("shapes outside the usual one still convert (an offset written +00:00) or pass through unchanged", () => {
  expect(isoTimestamp("2026-12-02 11:50:14.5+00:00")).toBe("2026-12-02T11:50:14.500000Z");
  expect(isoTimestamp("12026-12-02 11:50:14.5+00")).toBe("12026-12-02T11:50:14.500000Z");
  expect(isoTimestamp("infinity")).toBe("infinity");
});
