import postgres from "postgres";
import { freePort } from "../helpers/net.ts";
import { check, Cluster, Producer, Proxy, Reader, rng, ServerProcess, waitFor } from "./harness.ts";

export const FAULT_KINDS = [
  "kill9",
  "secondServer",
  "pgFast",
  "pgImmediate",
  "terminateAll",
  "terminateListeners",
  "cutWebSockets",
  "stallReader",
  "sigstop",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ChaosOptions {
  seed: number;
  /** Fault kinds in the order to inject (shuffled by the seed when `shuffle`). */
  faults: FaultKind[];
  shuffle?: boolean;
  producers: number;
  readers: number;
  /** Server processes sharing the database (default 2; "secondServer" needs two). */
  servers?: number;
  sessions: number;
  /** Pause between faults (ms, randomised up to 2x). */
  gapMs: number;
  /** How long SIGSTOP keeps a server paused: past the server's 12 s keep-alive in the full run. */
  pauseMs: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  acknowledged: number;
  events: number;
  retries: number;
  reconnects: number;
  faults: Record<string, number>;
  violations: string[];
  durationMs: number;
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One chaos run: its own Postgres, two server processes behind a TCP proxy of our own, producers that retry
 * and readers that resubscribe, and the faults in `options.faults`; then the checker over the whole history.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const random = rng(options.seed);
  const log = options.log ?? (() => {});
  const cluster = new Cluster();
  await cluster.start();
  const servers: ServerProcess[] = [];
  for (let i = 0; i < (options.servers ?? 2); i++) servers.push(new ServerProcess(await freePort(), cluster.url));
  const proxy = new Proxy(() => servers.filter((s) => s.alive).map((s) => s.port), random);
  const faults: Record<string, number> = {};
  const producers: Producer[] = [];
  const readers: Reader[] = [];
  const sessions = Array.from({ length: options.sessions }, (_, i) => `ses_chaos_${i}`);
  try {
    log(`cluster up at +${Date.now() - started} ms`);
    await Promise.all(servers.map((s) => s.start()));
    await proxy.start();
    log(`servers up at +${Date.now() - started} ms`);
    const admin = postgres(cluster.url, { max: 1, onnotice: () => {} });
    for (const id of sessions) await admin`select * from starcite.create_session(${id})`;
    await admin.end();

    for (let i = 0; i < options.readers; i++) readers.push(new Reader(`reader-${i}`, sessions[i % sessions.length]!, () => proxy.url));
    for (let i = 0; i < options.producers; i++)
      producers.push(new Producer(`producer-${i}`, sessions[i % sessions.length]!, () => proxy.url));
    readers.forEach((r) => r.start());
    const running = producers.map((p) => p.run());

    const ready = async () => {
      for (const s of servers) {
        if (!s.alive) await s.start();
        if (s.paused) s.resume();
      }
      await waitFor(
        "servers ready",
        async () => {
          const answers = await Promise.all(
            servers.map((s) =>
              fetch(`http://127.0.0.1:${s.port}/health/ready`, { signal: AbortSignal.timeout(1000) }).then(
                (r) => r.ok,
                () => false,
              ),
            ),
          );
          return answers.every(Boolean);
        },
        60_000,
      );
    };

    const schedule = [...options.faults];
    if (options.shuffle) {
      for (let i = schedule.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [schedule[i], schedule[j]] = [schedule[j]!, schedule[i]!];
      }
    }
    for (const kind of schedule) {
      await delay(options.gapMs * (1 + random()));
      const target = servers[Math.floor(random() * servers.length)]!;
      log(`fault ${kind} at +${Date.now() - started} ms (acks so far ${producers.reduce((n, p) => n + p.acks.length, 0)})`);
      switch (kind) {
        case "kill9":
          target.kill9();
          await delay(200);
          break;
        case "secondServer":
          // The second process leaves (gracefully) and comes back: both share the database throughout.
          await servers.at(-1)!.stop();
          await delay(300);
          break;
        case "pgFast":
        case "pgImmediate":
          await cluster.restart(kind === "pgFast" ? "fast" : "immediate");
          log(`postgres back at +${Date.now() - started} ms`);
          break;
        case "terminateAll":
          await cluster.terminate("all");
          break;
        case "terminateListeners":
          await cluster.terminate("listeners");
          break;
        case "cutWebSockets":
          proxy.cutWebSockets();
          break;
        case "stallReader":
          readers[Math.floor(random() * readers.length)]!.stall(3000);
          await delay(3000);
          break;
        case "sigstop":
          target.pause();
          await delay(options.pauseMs);
          target.resume();
          break;
      }
      faults[kind] = (faults[kind] ?? 0) + 1;
      await ready();
      log(`recovered from ${kind} at +${Date.now() - started} ms`);
    }

    await delay(1000);
    producers.forEach((p) => p.stop());
    await Promise.all(running);
    const admin2 = postgres(cluster.url, { max: 1, onnotice: () => {} });
    const lasts = new Map(
      (await admin2<{ id: string; last_seq: string }[]>`select id, last_seq from starcite.sessions`).map((r) => [r.id, Number(r.last_seq)]),
    );
    await admin2.end();
    await waitFor("readers to catch up", () => readers.every((r) => r.cursor >= (lasts.get(r.sessionId) ?? 0)), 60_000).catch((e: Error) =>
      log(e.message),
    );
    readers.forEach((r) => r.stop());

    log(`readers caught up at +${Date.now() - started} ms`);
    const { violations, events } = await check(cluster.url, producers, readers, sessions);
    for (const s of servers) violations.push(...s.crashes);
    // An internal_error answer is a violation: say what the server logged for it.
    if (violations.length > 0) for (const s of servers) for (const line of s.unexpectedErrors) log(`server ${s.port}: ${line}`);
    return {
      seed: options.seed,
      acknowledged: producers.reduce((n, p) => n + p.acks.length, 0),
      events,
      retries: producers.reduce((n, p) => n + p.retries, 0),
      reconnects: readers.reduce((n, r) => n + r.reconnects, 0),
      faults,
      violations,
      durationMs: Date.now() - started,
    };
  } catch (error) {
    // Say why the run broke off and what the servers said before (the error itself reaches vitest only after cleanup).
    log(`run broke off at +${Date.now() - started} ms: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    for (const s of servers) log(`server ${s.port} log tail: ${s.log.join("").slice(-3000)} crashes: ${s.crashes.join(" | ")}`);
    throw error;
  } finally {
    producers.forEach((p) => p.stop());
    readers.forEach((r) => r.stop());
    await proxy.stop().catch(() => {});
    await Promise.all(servers.map((s) => s.stop()));
    await cluster.stop();
  }
}
