import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.ts";

/** The README's SQL and GraphQL examples are executed as written, in order. */
const README = fs.readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../README.md"), "utf8");

function blocks(lang: string): string[] {
  return [...README.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!);
}

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.close();
});

describe("README examples", () => {
  test("every SQL block runs; blocks marked `-- raises <code> (SCxxx)` raise exactly that", async () => {
    const sqlBlocks = blocks("sql");
    expect(sqlBlocks.length).toBeGreaterThanOrEqual(5);
    for (const block of sqlBlocks) {
      const raises = /-- raises ([a-z_]+) \((SC\d{3})\)/.exec(block);
      const statements = block
        .split(/;\s*\n/)
        .map((x) => x.replace(/^\s*--.*$/gm, "").trim())
        .filter(Boolean);
      for (const statement of statements) {
        const run = s.db.sql.unsafe(statement);
        if (raises) {
          await expect(run).rejects.toMatchObject({ code: raises[2], message: expect.stringContaining(`${raises[1]}:`) });
        } else {
          await run;
        }
      }
    }
    // The walk-through's effects: the retry deduped, the bad batch item failed alone.
    const rows = await s.db.sql<
      { seq: number; type: string }[]
    >`select seq, type from starcite.events where session_id = 'ses_sql_demo' order by seq`;
    expect(rows.map((r) => [r.seq, r.type])).toEqual([
      [1, "content"],
      [2, "tool_call"],
      [3, "status"],
      [4, "status"],
    ]);
  });

  test("every GraphQL query and mutation block runs without errors", async () => {
    const ops = blocks("graphql").filter((b) => /^\s*(mutation|query)\s*\{/.test(b));
    expect(ops.length).toBeGreaterThanOrEqual(4);
    for (const op of ops) {
      const res = await s.gql(op);
      expect(res.errors, op).toBeUndefined();
    }
    const res = await s.gql<{ events: { lastSeq: number } }>(`{ events(sessionId: "ses_readme") { lastSeq } }`);
    expect(res.data!.events.lastSeq).toBe(3);
  });
});
