/**
 * What one append costs the server's thread, against a bare HTTP server in the same run:
 *   npm run bench:append-cost [-- --rate 1000 --seconds 5 --rounds 2]
 *
 * Two servers, each in its own process and started afresh every round, alternated: the starcite server (as
 * `npm run bench` runs it: dist/, NODE_ENV=production, auth off, on the bench's embedded Postgres) and scenario 3's
 * floor, a bare node:http server that answers every request with its body. The same keep-alive client sends the
 * same GraphQL append body to both, to one session, at a steady rate (open loop), first for a warm-up (a fresh
 * server runs its JavaScript unoptimised for its first few thousand requests), then for the measured window. The
 * server's CPU time over that window (user + system, every thread of the process), divided by the requests, is
 * its CPU per append; the difference between the two is what starcite adds to a bare HTTP exchange.
 *
 * Absolute numbers follow the host (syscalls and wake-ups cost twice as much in some hours as in others): read
 * the ratio and the difference within one run. bench/README.md ("Issue 15 targets") cites this tool's output.
 */
import { parseArgs } from "node:util";
import { describeBuild, onceBuilder, serverBuild } from "./lib/build.ts";
import { startPostgres } from "./lib/env.ts";
import { APPEND_MUTATION } from "./lib/graphql.ts";
import { keepAliveAgent, request } from "./lib/http.ts";
import { openLoop, payloadOf } from "./lib/load.ts";
import { createSessions } from "./scenarios/common.ts";
import { startChildServer, type ChildServer } from "./lib/servers.ts";

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "5" },
    warmup: { type: "string", default: "5" },
    rounds: { type: "string", default: "2" },
  },
});
const positive = (name: string, text: string | undefined): number => {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`--${name} must be a positive number, got ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return n;
};
const rate = positive("rate", values.rate);
const seconds = positive("seconds", values.seconds);
const warmup = positive("warmup", values.warmup);
const rounds = Math.round(positive("rounds", values.rounds));

const log = (line: string) => process.stderr.write(`[append-cost] ${line}\n`);
const build = serverBuild();
onceBuilder(build, log)();
const pg = await startPostgres(log);

/** Server CPU milliseconds (user + system) so far. */
const cpuMs = async (server: ChildServer) => {
  const s = await server.stats();
  return s.cpuUserMs + s.cpuSystemMs;
};

/** One server's CPU per request at `rate`, after a warm-up at the same rate; every answer must be a 200. */
async function measure(server: ChildServer): Promise<{ msPerAppend: number; achieved: number }> {
  const agent = keepAliveAgent(256);
  const url = `${server.url}/graphql`;
  const headers = { "content-type": "application/json" };
  const send = async (i: number) => {
    const res = await request(
      agent,
      "POST",
      url,
      JSON.stringify({ query: APPEND_MUTATION, variables: { s: "cost", e: { type: "content", payload: payloadOf(i) } } }),
      headers,
    );
    if (res.status !== 200 || res.body.includes('"errors"')) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
  };
  try {
    const warm = await openLoop(rate, warmup * 1000, send);
    if (warm.errors > 0) throw warm.firstError;
    const before = await cpuMs(server);
    const run = await openLoop(rate, seconds * 1000, send);
    const used = (await cpuMs(server)) - before;
    if (run.errors > 0) throw run.firstError;
    return { msPerAppend: used / run.started, achieved: run.started / run.seconds };
  } finally {
    agent.destroy();
  }
}

const results: Record<"starcite" | "echo", number[]> = { starcite: [], echo: [] };
try {
  for (let round = 1; round <= rounds; round++) {
    for (const kind of ["starcite", "echo"] as const) {
      const db = kind === "starcite" ? await pg.newDatabase("append_cost", 4) : null;
      if (db) await createSessions(db.sql, ["cost"]);
      const server = await startChildServer(
        kind,
        db ? { BENCH_DATABASE_URL: db.url, BENCH_POOL_SIZE: "10", BENCH_SERVER_BUILD: build } : {},
      );
      try {
        const { msPerAppend, achieved } = await measure(server);
        results[kind].push(msPerAppend);
        const what = kind === "starcite" ? "starcite (GraphQL append, committed)" : "bare node:http echo";
        process.stdout.write(
          `round ${round}: ${what.padEnd(36)} ${(msPerAppend * 1000).toFixed(0).padStart(4)} µs of server CPU per append at ${achieved.toFixed(0)}/s\n`,
        );
      } finally {
        await server.close();
        await db?.drop();
      }
    }
  }
} finally {
  await pg.stop();
}
const range = (xs: number[]) => `${(Math.min(...xs) * 1000).toFixed(0)}-${(Math.max(...xs) * 1000).toFixed(0)} µs`;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
process.stdout.write(
  `starcite ${range(results.starcite)}, echo ${range(results.echo)} per append (${rounds} round(s), ${rate}/s, ${seconds} s each; ` +
    `server: ${describeBuild(build)}): starcite adds ${((mean(results.starcite) - mean(results.echo)) * 1000).toFixed(0)} µs, ` +
    `${(mean(results.starcite) / mean(results.echo)).toFixed(2)}x the echo's\n`,
);
