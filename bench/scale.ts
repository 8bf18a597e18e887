/**
 * Measurements for retention and webhooks, run alone (not part of `npm run bench`):
 *   npm run bench:scale [-- --seeded 20000 --appends 1000 --events 20000 --sessions 50]
 *
 * 1. Retention's effect on append latency. Four appenders (SQL starcite.append through postgres.js, one session each,
 *    256-byte payloads) run `appends` appends each with no retention due, then again while a server process's
 *    retention worker deletes all but 1,000 events of each session (seeded with `seeded` events), in batches of 500.
 *    Reported: p50 / p99 / p99.9 / max of both runs, and how fast retention deleted.
 * 2. Webhook delivery throughput. One endpoint on a local receiver answering 200 at once; `events` events appended with
 *    appendBatch (100 per call) over `sessions` sessions while the endpoint is disabled, then it is enabled: the time
 *    until the receiver has every event gives deliveries/s and events/s (the sender's defaults: 100 events per
 *    delivery, 16 streams in flight). `--only retention|webhooks` runs one of the two.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { startPostgres } from "./lib/env.ts";
import { startChildServer } from "./lib/servers.ts";
import { now, Recorder, type LatencySummary } from "./lib/stats.ts";

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    seeded: { type: "string", default: "20000" },
    appends: { type: "string", default: "1000" },
    events: { type: "string", default: "20000" },
    sessions: { type: "string", default: "50" },
  },
});
const SEEDED = Number(values.seeded);
const APPENDS = Number(values.appends);
const EVENTS = Number(values.events);
const SESSIONS = Number(values.sessions);
const KEEP = 1000;
const APPENDERS = 4;

const log = (line: string) => process.stderr.write(`${line}\n`);
const fmt = (s: LatencySummary) =>
  `p50 ${s.p50.toFixed(2)} / p99 ${s.p99.toFixed(2)} / p99.9 ${s.p999.toFixed(2)} / max ${s.max.toFixed(2)} ms (n=${s.n})`;

const pg = await startPostgres(log);
try {
  // 1. Retention and append latency.
  if (values.only !== "webhooks") {
    const db = await pg.newDatabase("retention", APPENDERS + 2);
    const ids = Array.from({ length: APPENDERS }, (_, i) => `ret-${i}`);
    for (const id of ids) {
      await db.sql`select starcite.create_session(${id})`;
      for (let i = 0; i < SEEDED; i += 1000) {
        await db.sql`select count(*) from starcite.append_batch(${id}, (select jsonb_agg(jsonb_build_object('payload', jsonb_build_object('i', g, 'pad', repeat('x', 240)))) from generate_series(1, ${Math.min(1000, SEEDED - i)}) g))`;
      }
    }
    const server = await startChildServer("starcite", {
      BENCH_DATABASE_URL: db.url,
      BENCH_RETENTION_INTERVAL_MS: "50",
      BENCH_RETENTION_BATCH: "500",
    });
    const run = async (stop: () => boolean): Promise<Recorder> => {
      const r = new Recorder();
      await Promise.all(
        ids.map(async (id) => {
          for (let i = 0; i < APPENDS || !stop(); i++) {
            const start = now();
            await db.sql`select * from starcite.append(${id}, 'content', ${db.sql.json({ pad: "y".repeat(240) })}::jsonb)`;
            r.since(start);
          }
        }),
      );
      return r;
    };
    const without = await run(() => true);
    const started = Date.now();
    await db.sql`select starcite.set_retention(max_events => ${KEEP})`;
    let done = false;
    const during = run(() => done);
    for (;;) {
      const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from starcite.events`;
      if (row!.n <= ids.length * (KEEP + APPENDS * 2)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = (Date.now() - started) / 1000;
    done = true;
    const withRetention = await during;
    console.log(`retention: ${APPENDERS} SQL appenders without a retention job: ${fmt(without.summary())}`);
    console.log(
      `retention: while retention deleted ${ids.length * (SEEDED - KEEP)} events in ${seconds.toFixed(1)} s ` +
        `(${Math.round((ids.length * (SEEDED - KEEP)) / seconds)} events/s, batches of 500): ${fmt(withRetention.summary())}`,
    );
    await server.close();
    await db.drop();
  }

  // 2. Webhook throughput.
  if (values.only !== "retention") {
    const db = await pg.newDatabase("webhooks", 4);
    const server = await startChildServer("starcite", { BENCH_DATABASE_URL: db.url });
    let received = 0;
    let deliveries = 0;
    let lastAt = 0;
    let allIn: () => void = () => {};
    const all = new Promise<void>((r) => (allIn = r));
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { type: string; events?: unknown[] };
        res.writeHead(200).end();
        deliveries++;
        if (body.type === "events") received += body.events!.length;
        lastAt = Date.now();
        if (received >= EVENTS) allIn();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
    const gql = async (query: string, variables: Record<string, unknown>) => {
      const res = await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { errors?: unknown };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
    };
    const gqlData = async (query: string, variables: Record<string, unknown>) => {
      const res = await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query, variables }),
      });
      return ((await res.json()) as { data: { createWebhookEndpoint: { endpoint: { id: string } } } }).data;
    };
    const endpointId = (
      await gqlData(`mutation($url: String!) { createWebhookEndpoint(url: $url, lifecycle: false) { endpoint { id } } }`, {
        url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
      })
    ).createWebhookEndpoint.endpoint.id;
    await gql(`mutation($id: ID!) { updateWebhookEndpoint(id: $id, enabled: false) { id } }`, { id: endpointId });
    const sessions = Array.from({ length: SESSIONS }, (_, i) => `wh-${i}`);
    for (const id of sessions) await gql(`mutation($id: ID) { createSession(id: $id) { id } }`, { id });
    const perSession = Math.ceil(EVENTS / SESSIONS);
    await Promise.all(
      sessions.map(async (id, k) => {
        const n = Math.min(perSession, EVENTS - k * perSession);
        for (let i = 0; i < n; i += 100) {
          const events = Array.from({ length: Math.min(100, n - i) }, (_, j) => ({ payload: { i: i + j, pad: "z".repeat(200) } }));
          await gql(`mutation($id: ID!, $events: [AppendInput!]!) { appendBatch(sessionId: $id, events: $events) { seq } }`, {
            id,
            events,
          });
        }
      }),
    );
    const start = Date.now();
    await gql(`mutation($id: ID!) { updateWebhookEndpoint(id: $id, enabled: true) { id } }`, { id: endpointId });
    await all;
    const seconds = (lastAt - start) / 1000;
    console.log(
      `webhooks: ${received} events in ${deliveries} deliveries over ${SESSIONS} sessions, drained in ${seconds.toFixed(2)} s ` +
        `after enabling the endpoint: ${Math.round(deliveries / seconds)} deliveries/s, ${Math.round(received / seconds)} events/s`,
    );
    receiver.close();
    await server.close();
    await db.drop();
  }
} finally {
  await pg.stop();
}
