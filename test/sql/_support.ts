/**
 * Shared helpers for the SQL-layer tests. Waiting is always on a real condition (a notification, a row,
 * a process event) with a bounded deadline; nothing here sleeps to "let things settle".
 */
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { expect } from "vitest";
import type { Sql } from "../../src/db/client.ts";
import { StarciteError } from "../../src/db/errors.ts";

export const CHANNEL = "starcite_events";

/** A session id no other test uses. */
export function sid(prefix = "s"): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}

/** Rejects with a clear message when `promise` takes longer than `ms`. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `condition` until it holds (returns a truthy value), failing after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  condition: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 10_000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The SQLSTATE-carrying error a postgres.js query rejected with. */
export async function pgError(promise: Promise<unknown>, sqlstate: string): Promise<postgres.PostgresError> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(error, `expected the query to fail with SQLSTATE ${sqlstate}`).toBeInstanceOf(postgres.PostgresError);
  const pg = error as postgres.PostgresError;
  expect(pg.code, pg.message).toBe(sqlstate);
  return pg;
}

/** The StarciteError a data-layer call rejected with. */
export async function starciteError(promise: Promise<unknown>, code: string): Promise<StarciteError> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(error, `expected a StarciteError ${code}`).toBeInstanceOf(StarciteError);
  const se = error as StarciteError;
  expect(se.code, se.message).toBe(code);
  return se;
}

/** JSON detail of a raised starcite error. */
export function detailOf(error: postgres.PostgresError): Record<string, unknown> {
  return JSON.parse(error.detail ?? "{}") as Record<string, unknown>;
}

export interface Hint {
  session_id: string;
  last_seq: number;
}

export interface HintListener {
  /** Every notification received so far, in arrival order. */
  readonly hints: Hint[];
  /** Resolves with the first hint (already received or future) that matches, failing after `timeoutMs`. */
  waitFor(what: string, match: (h: Hint) => boolean, timeoutMs?: number): Promise<Hint>;
  close(): Promise<void>;
}

/** LISTENs on starcite_events with a connection of its own (postgres.js `sql.listen`). */
export async function listenHints(url: string): Promise<HintListener> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const hints: Hint[] = [];
  const wakers = new Set<() => void>();
  await sql.listen(CHANNEL, (payload) => {
    hints.push(JSON.parse(payload) as Hint);
    for (const wake of wakers) wake();
  });
  return {
    hints,
    async waitFor(what, match, timeoutMs = 5_000) {
      const found = hints.find(match);
      if (found) return found;
      let wake!: () => void;
      const arrived = new Promise<Hint>((resolve) => {
        wake = () => {
          const h = hints.find(match);
          if (h) resolve(h);
        };
        wakers.add(wake);
      });
      try {
        return await within(timeoutMs, `notification: ${what}`, arrived);
      } finally {
        wakers.delete(wake);
      }
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}

/** Creates a session through SQL and returns its id. */
export async function createSessionSql(sql: Sql, id = sid()): Promise<string> {
  await sql`select starcite.create_session(${id})`;
  return id;
}

export async function lastSeq(sql: Sql, sessionId: string): Promise<number> {
  const [row] = await sql<{ last_seq: number }[]>`select last_seq from starcite.sessions where id = ${sessionId}`;
  return row!.last_seq;
}

export async function eventCount(sql: Sql, sessionId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from starcite.events where session_id = ${sessionId}`;
  return row!.n;
}
