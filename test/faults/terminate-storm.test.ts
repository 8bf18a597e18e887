/**
 * Backends terminated again and again under load: 32 retrying producers on two sessions against one server while
 * every starcite connection is killed every ~0.3 s, then the checker (every ack stored once, at the seq it named;
 * no internal_error). This found the postgres.js failure src/db/socket.ts guards against (a query issued between a
 * socket's error and close ran on the dead connection) in 2 of 9 runs of 40 s, where the chaos run met it once in
 * dozens.
 */
import postgres from "postgres";
import { expect, test } from "vitest";
import { freePort } from "../helpers/net.ts";
import { check, Cluster, Producer, ServerProcess } from "./harness.ts";

const seconds = Number(process.env.STARCITE_STORM_SECONDS ?? 30);

test(
  `terminate storm: all backends killed every ~0.3 s for ${seconds} s under 32 producers`,
  async () => {
    const cluster = new Cluster();
    await cluster.start();
    const server = new ServerProcess(await freePort(), cluster.url);
    const producers: Producer[] = [];
    try {
      await server.start();
      const sessions = ["ses_storm_0", "ses_storm_1"];
      const admin = postgres(cluster.url, { max: 1, onnotice: () => {} });
      for (const id of sessions) await admin`select * from starcite.create_session(${id})`;
      await admin.end();
      const url = `http://127.0.0.1:${server.port}`;
      for (let i = 0; i < 32; i++) producers.push(new Producer(`producer-${i}`, sessions[i % 2]!, () => url));
      const running = producers.map((p) => p.run());
      let kills = 0;
      for (const end = Date.now() + seconds * 1000; Date.now() < end; kills++) {
        await new Promise((r) => setTimeout(r, 150 + Math.random() * 300));
        await cluster.terminate("all");
      }
      producers.forEach((p) => p.stop());
      await Promise.all(running);
      const { violations, events } = await check(cluster.url, producers, [], sessions);
      violations.push(...server.crashes, ...server.unexpectedErrors);
      const acks = producers.reduce((n, p) => n + p.acks.length, 0);
      console.log(`terminate storm: ${kills} kills, ${acks} acks, ${events} events, violations ${violations.length}`);
      expect(violations).toEqual([]);
      expect(acks).toBeGreaterThan(0);
      expect(events).toBe(acks);
    } finally {
      producers.forEach((p) => p.stop());
      await server.stop();
      await cluster.stop();
    }
  },
  5 * 60_000,
);
