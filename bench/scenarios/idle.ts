/**
 * 6. Idle cost: server RSS with 10,000 idle `tail` subscriptions (lean WebSocket clients, 10 per session
 *    over 1,000 sessions), measured in the server's child process after a GC, against its RSS before.
 */
import { GraphQLClient, hasGraphQL } from "../lib/graphql.ts";
import { sleep } from "../lib/load.ts";
import { SkipScenario, type Scenario } from "../lib/scenario.ts";
import { createSessions, target } from "./common.ts";
import { openSubscribers } from "./fanout.ts";

export const idle: Scenario = {
  id: "6",
  name: "idle",
  title: "idle cost: server RSS with 10,000 idle subscriptions",
  async run(ctx) {
    const subscribers = ctx.scale(10_000, 1000);
    const sessionsN = ctx.scale(1000, 100);
    const db = await ctx.pg.newDatabase("idle", 4);
    const server = await ctx.startStarcite(db.url);
    try {
      if (!(await hasGraphQL(server.url))) throw new SkipScenario("the server has no /graphql yet");
      const gql = new GraphQLClient(server.url, 8);
      const sessions = Array.from({ length: sessionsN }, (_, i) => `idle-${i}`);
      await createSessions(db.sql, sessions);
      await server.resetPeak();
      await sleep(300);
      const before = await server.stats();
      const opened = await openSubscribers(gql.wsEndpoint, sessions, subscribers, () => {});
      if (opened.failures) throw new Error(`${opened.failures} subscriptions failed: ${opened.firstFailure}`);
      await sleep(2000);
      await server.resetPeak(); // runs a GC first
      await sleep(300);
      const after = await server.stats();
      const cpuIdle0 = after.cpuUserMs + after.cpuSystemMs;
      await sleep(ctx.quick ? 1000 : 3000);
      const later = await server.stats();
      const idleCpu = (later.cpuUserMs + later.cpuSystemMs - cpuIdle0) / (ctx.quick ? 1000 : 3000);
      for (const s of opened.subs) s.close();
      gql.close();
      const perSubKiB = (after.rss - before.rss) / subscribers / 1024;
      return {
        rows: [
          {
            case: `6 ${subscribers.toLocaleString("en-US")} idle subscriptions over ${sessionsN} sessions`,
            extra: {
              rssBeforeMiB: Math.round(before.rss / 2 ** 20),
              rssAfterMiB: Math.round(after.rss / 2 ** 20),
              heapAfterMiB: Math.round(after.heapUsed / 2 ** 20),
              perSubKiB: Math.round(perSubKiB * 10) / 10,
              idleCpu,
              openSec: opened.openMs / 1000,
            },
            targets: [target("RSS < 1 GB", after.rss < 2 ** 30)],
          },
        ],
        notes: [
          "RSS after a forced GC in the server process, 2 s after the last subscription went live; " +
            "idleCpu is cores used while all subscriptions sat idle",
        ],
      };
    } finally {
      await server.close();
      await db.drop();
    }
  },
};
