/**
 * Facts defined once in SQL — error codes, limits, scopes — and every other place that states them: the
 * server's error map, the SDK's code list, src/auth's scope list, the README's tables.
 */
import fs from "node:fs";
import path from "node:path";
import { SERVER_ERROR_CODES } from "@starcite/sdk";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SCOPES, TOKEN_SCOPES } from "../../src/auth/principal.ts";
import { ERROR_SQLSTATES, SQLSTATE_TO_CODE, toStarciteError, type ErrorCode } from "../../src/db/errors.ts";
import { HTTP_STATUS } from "../../src/rest/errors.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { ROOT } from "../helpers/node.ts";

let db: TestDatabase;
let codes: { code: string; sqlstate: string | null; http_status: number; description: string }[];
let limits: { name: string; value: number; description: string }[];
let scopes: { name: string; api_key_default: boolean; session_token: boolean; description: string }[];

beforeAll(async () => {
  db = await createTestDatabase();
  codes = [...(await db.sql<typeof codes>`select * from starcite.error_codes()`)];
  limits = [...(await db.sql<typeof limits>`select * from starcite.limits()`)];
  scopes = [...(await db.sql<typeof scopes>`select * from starcite.scopes()`)];
});

afterAll(async () => {
  await db?.drop();
});

const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
const REST_DOC = fs.readFileSync(path.join(ROOT, "docs/rest.md"), "utf8");

/** The rows of the Markdown table whose header is exactly `header`, cells trimmed, backticks dropped. */
function readmeTable(header: string[], text = README): string[][] {
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l.trim() === `| ${header.join(" | ")} |`);
  expect(at, `README table with header ${header.join(" | ")}`).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(at + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(
      line
        .slice(1, -1)
        .split(" | ")
        .map((cell) => cell.trim().replace(/^`([^`]*)`$/, "$1")),
    );
  }
  return rows;
}

describe("error codes", () => {
  test("every code has a distinct SQLSTATE of class SC (or none) and an HTTP status a REST surface can answer", () => {
    expect(codes.length).toBeGreaterThan(15);
    const sqlstates = codes.map((c) => c.sqlstate).filter((s) => s !== null);
    expect(new Set(sqlstates).size).toBe(sqlstates.length);
    for (const c of codes) {
      expect(c.sqlstate === null || /^SC\d{3}$/.test(c.sqlstate), c.code).toBe(true);
      expect([400, 401, 403, 404, 405, 409, 410, 413, 415, 429, 500, 503], c.code).toContain(c.http_status);
      expect(c.description, c.code).not.toBe("");
    }
  });

  test("the server's SQLSTATE map (src/db/errors.ts) and REST's HTTP statuses (src/rest/errors.ts) are this table", () => {
    expect(Object.fromEntries(codes.map((c) => [c.code, c.sqlstate]))).toEqual(ERROR_SQLSTATES);
    expect(SQLSTATE_TO_CODE).toEqual(Object.fromEntries(codes.filter((c) => c.sqlstate).map((c) => [c.sqlstate, c.code])));
    expect(Object.fromEntries(codes.map((c) => [c.code, c.http_status]))).toEqual(HTTP_STATUS);
  });

  test("the SDK's server code list names exactly these codes", () => {
    expect([...SERVER_ERROR_CODES].sort()).toEqual(codes.map((c) => c.code).sort());
  });

  test("the README's table is this table, row for row", () => {
    expect(readmeTable(["code", "SQLSTATE", "HTTP", "when"])).toEqual(
      codes.map((c) => [c.code, c.sqlstate ?? "—", String(c.http_status), c.description]),
    );
  });

  test("docs/rest.md's status table names exactly the codes of each status", () => {
    const documented = readmeTable(["status", "codes"], REST_DOC).map(([status, cell]) => [
      status,
      [...cell!.matchAll(/`([a-z_]+)`/g)]
        .map((m) => m[1]!)
        .sort()
        .join(" "),
    ]);
    const statuses = [...new Set(codes.map((c) => c.http_status))].sort((a, b) => a - b);
    expect(documented).toEqual(
      statuses.map((st) => [
        String(st),
        codes
          .filter((c) => c.http_status === st)
          .map((c) => c.code)
          .sort()
          .join(" "),
      ]),
    );
  });

  test("raise_error raises each code with its SQLSTATE, and the data layer maps it back to the code", async () => {
    for (const c of codes) {
      const error = await db.sql`select starcite.raise_error(${c.code}, 'boom', '{"k": 1}')`.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, c.code).toMatchObject({ code: c.sqlstate ?? "SC000", message: `${c.code}: boom` });
      const mapped = toStarciteError(error) as { code: ErrorCode; detail: unknown };
      expect(mapped.code, c.code).toBe(c.sqlstate ? c.code : "internal_error");
      expect(mapped.detail).toEqual({ k: 1 });
    }
  });
});

describe("limits", () => {
  test("the README's limits table is starcite.limits(), row for row", () => {
    expect(readmeTable(["limit", "value", "what it bounds"])).toEqual(limits.map((l) => [l.name, String(l.value), l.description]));
  });

  test("limit_value reads them, and a name that is not a limit fails instead of allowing anything", async () => {
    for (const l of limits) {
      const [row] = await db.sql<{ v: number }[]>`select starcite.limit_value(${l.name}) as v`;
      expect(row!.v, l.name).toBe(l.value);
    }
    await expect(db.sql`select starcite.limit_value('event_typo_chars')`).rejects.toThrow(/unknown limit event_typo_chars/);
  });

  test("a limit copied into a table's CHECK as a number (so that no statement plans a limit_value call) is the limit", async () => {
    const [row] = await db.sql<{ def: string }[]>`
      select pg_get_constraintdef(oid) as def from pg_constraint
      where conrelid = 'starcite.events'::regclass and conname = 'events_body_check'`;
    const value = limits.find((l) => l.name === "event_body_bytes")!.value;
    expect(row!.def).toBe(`CHECK ((octet_length(body) <= ${value}))`);
  });
});

describe("scopes", () => {
  test("src/auth's scope lists are starcite.scopes(): every scope, and the ones a session token may carry", () => {
    expect([...SCOPES]).toEqual(scopes.map((s) => s.name));
    expect([...TOKEN_SCOPES]).toEqual(scopes.filter((s) => s.session_token).map((s) => s.name));
  });

  test("the README's scope table is starcite.scopes(), row for row", () => {
    expect(readmeTable(["scope", "allows"])).toEqual(scopes.map((s) => [s.name, s.description]));
  });

  test("a new key's default scopes and the scopes a key may hold come from the same list", async () => {
    const [row] = await db.sql<{ scopes: string[] }[]>`select starcite.default_key_scopes() as scopes`;
    expect(row!.scopes).toEqual(
      scopes
        .filter((s) => s.api_key_default)
        .map((s) => s.name)
        .sort(),
    );
    const [key] = await db.sql<{ scopes: string[] }[]>`select scopes from starcite.create_api_key('facts', 'defaults')`;
    expect(key!.scopes).toEqual(row!.scopes);
    await expect(db.sql`select * from starcite.create_api_key('facts', 'bad', '{session:read,session:delete}')`).rejects.toMatchObject({
      code: "SC001",
    });
    await expect(db.sql`insert into starcite.api_keys (id, tenant_id, name, key_hash, key_prefix, scopes)
                        values ('k', 'facts', 'raw', '\\x00', 'sk_', '{root}')`).rejects.toMatchObject({ code: "23514" });
  });
});
