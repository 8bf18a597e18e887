/**
 * The distributed path (README "Scale-out and the distributed path"): every SQL function touches the rows of one
 * session per statement, keyed by session_id, so that on Citus the session tables can be distributed by session_id
 * and the session functions delegated to the worker holding that session. The exceptions are the documented ones:
 * the batch engine (append_items, several sessions per call by design) and read-only tenant-wide scans.
 */
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "vitest";
import { DB_DIR } from "../../src/db/source.ts";
import { ROOT } from "../helpers/node.ts";

/** Tables whose rows belong to one session (distributed by session_id, colocated with sessions). */
const SESSION_TABLES = ["events", "sessions", "log_bounds", "archive_segments", "webhook_cursors"];

/** Functions allowed to touch several sessions' rows in one statement, and why (the README lists the same). */
const MULTI_SESSION: Record<string, string> = {
  append_items: "the batch engine: the server's group commit appends to many sessions in one statement",
  append_groups: "the batch engine's transaction: locks the sessions of several append_items calls in one statement",
  list_sessions: "read-only: a tenant's sessions, paged",
  retention_due: "read-only: which sessions retention can shorten",
  archive_due: "read-only: which sessions have ranges to archive",
  webhook_due_sessions: "read-only: which sessions an endpoint has yet to deliver",
  read_many: "read-only: a process's live fan-out reads the new events of the sessions that advanced, in one statement",
};

/** One session per statement, bound in a way the pattern below does not see (checked by reading them). */
const ONE_SESSION_UNSEEN: Record<string, string> = {
  read_json: "dynamic SQL whose session is the bound parameter $1",
  ds_settle: "the session of the one stream row passed in (s.session_id)",
  ds_state: "the session of the one stream row passed in (s.session_id)",
  ds_stream_tail: "the session of one stream: its newest incarnation (limit 1)",
};

interface Fn {
  name: string;
  volatility: string;
  statements: string[];
}

function functions(): Fn[] {
  const dir = path.join(DB_DIR, "functions");
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .map((file) => {
      const text = fs.readFileSync(path.join(dir, file), "utf8").replace(/--[^\n]*/g, "");
      const body = /\$\$([\s\S]*)\$\$/.exec(text)?.[1] ?? "";
      const volatility = /language \w+ (immutable|stable|volatile)/.exec(text)?.[1] ?? "volatile";
      return {
        name: file.replace(/\.sql$/, ""),
        volatility,
        statements: body
          .split(";")
          .map((s) => s.replace(/\s+/g, " ").trim())
          .filter(Boolean),
      };
    });
}

/** A statement that reads or writes rows of a session table (as a table, not as a row type). */
const touchesSessionRows = (statement: string): boolean =>
  SESSION_TABLES.some((t) => new RegExp(`\\b(?:from|join|update|into)\\s+starcite\\.${t}\\b(?!\\s*\\()`).test(statement));

/**
 * Its session key is bound to one value — a parameter, a local, or a record's field — or it inserts one row. A key
 * compared with a set (`= any (...)`, a join on it alone) does not count.
 */
const oneSession = (statement: string): boolean =>
  // The value: a parameter qualified by its function's name (read.session_id), or a local (_s.id); a short table
  // alias (e.session_id) would be a join, which binds nothing.
  /\b(?:\w+\.)?(?:session_id|id)\s*=\s*(?:[a-z]\w{2,}\.(?:session_id|id)|_\w+(?:\.\w+)?)\b(?!\s*\()/.test(statement) ||
  /^(?:else |then )?insert into starcite\.\w+(?: as \w+)? \([^)]*\) values \([^()]*(?:\([^()]*\)[^()]*)*\)(?: on conflict[^;]*)?$/.test(
    statement,
  );

test("every function touches one session's rows per statement, except the documented batch engine and read-only scans", () => {
  const offenders: string[] = [];
  const all = functions();
  for (const fn of all) {
    if (fn.name in MULTI_SESSION || fn.name in ONE_SESSION_UNSEEN) continue;
    for (const statement of fn.statements) {
      if (touchesSessionRows(statement) && !oneSession(statement)) offenders.push(`${fn.name}: ${statement.slice(0, 160)}`);
    }
  }
  expect(offenders).toEqual([]);
  expect(all.map((f) => f.name)).toEqual(expect.arrayContaining([...Object.keys(MULTI_SESSION), ...Object.keys(ONE_SESSION_UNSEEN)]));
});

test("the check itself tells one session from several", () => {
  expect(touchesSessionRows("select starcite.events from x")).toBe(false);
  expect(touchesSessionRows("delete from starcite.events e where e.session_id = any (_ids)")).toBe(true);
  expect(oneSession("delete from starcite.events e where e.session_id = any (_ids)")).toBe(false);
  expect(oneSession("update starcite.sessions s set title = 'x' where s.tenant_id = _tenant")).toBe(false);
  expect(oneSession("select * from starcite.events e join starcite.sessions s on s.id = e.session_id")).toBe(false);
  expect(oneSession("delete from starcite.events e where e.session_id = _s.id and e.seq <= _through")).toBe(true);
  expect(oneSession("insert into starcite.log_bounds (session_id) values (record.session_id) on conflict do nothing")).toBe(true);
});

test("the exceptions other than the batch engine only read", () => {
  for (const fn of functions().filter((f) => f.name in MULTI_SESSION && f.name !== "append_items" && f.name !== "append_groups")) {
    expect(fn.volatility, fn.name).toBe("stable");
    for (const s of fn.statements) expect(s, fn.name).not.toMatch(/\b(insert into|update starcite|delete from)\b/);
  }
});

test("the README's distributed path names the same exceptions", () => {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### The distributed path"));
  for (const name of Object.keys(MULTI_SESSION)) expect(section, name).toContain(`\`${name}\``);
});
