import postgres from "postgres";

export type Sql = postgres.Sql<Record<string, never>>;

export interface PoolOptions {
  max?: number;
  applicationName?: string;
  /**
   * Whether to read the server's array types when connecting (postgres.js's fetch_types; needed to send arrays).
   * A connection that never sends arrays skips it: a backend killed during that query is an error postgres.js
   * does not hand to any caller.
   */
  fetchTypes?: boolean;
}

/**
 * Postgres renders timestamptz in UTC as "2026-01-02 03:04:05.12+00" (trailing zeros of the fraction
 * dropped); return ISO-8601 with exactly six fractional digits: "2026-01-02T03:04:05.120000Z".
 */
export function isoTimestamp(raw: string): string {
  // The usual shape ("YYYY-MM-DD HH:MM:SS[.f{1,6}]+00") by slicing: every row read passes through here, and the
  // regular expression below cost 5 % of the server's CPU while it replayed a session.
  const n = raw.length;
  if (n >= 22 && n <= 29 && raw.charCodeAt(10) === 32 && raw.endsWith("+00") && (n === 22 || raw.charCodeAt(19) === 46)) {
    return `${raw.slice(0, 10)}T${raw.slice(11, 19)}.${n === 22 ? "000000" : raw.slice(20, n - 3).padEnd(6, "0")}Z`;
  }
  return raw
    .replace(" ", "T")
    .replace(
      /(:\d{2})(?:\.(\d{1,6}))?\+00(?::00)?$/,
      (_m, secs: string, frac: string | undefined) => `${secs}.${(frac ?? "").padEnd(6, "0")}Z`,
    );
}

/**
 * A postgres.js pool with the conventions the data layer relies on: UTC session time zone, int8 parsed to
 * number (seq and producer_seq stay far below 2^53), timestamptz kept as ISO strings with microseconds.
 */
export function createPool(url: string, options: PoolOptions = {}): Sql {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    fetch_types: options.fetchTypes ?? true,
    connection: { application_name: options.applicationName ?? "starcite", TimeZone: "UTC" },
    types: {
      int8: { to: 20, from: [20], serialize: (v: number) => String(v), parse: (v: string) => Number(v) },
      timestamptz: { to: 1184, from: [1184], serialize: (v: string) => v, parse: isoTimestamp },
    },
  });
  if (options.fetchTypes ?? true) {
    // postgres.js reads the server's array types on every new connection, and a backend killed during that read
    // rejects a promise no caller holds (an unhandled rejection, fatal to a Node process): a failover or a
    // connection reaper could end the server. The types are the same for every connection, and what they add
    // lives in the pool's shared options, so once the first connection has read them the others skip it.
    void sql`select 1`.then(
      () => {
        sql.options.fetch_types = false;
      },
      () => {},
    );
  }
  return sql as unknown as Sql;
}

/** Resolves when the database answers a trivial query (the readiness check). */
export async function ping(sql: Sql): Promise<void> {
  await sql`select 1`;
}
