/**
 * The reduced fault-injection run inside `npm test` (the full one is `npm run test:faults`): kill -9 of a
 * server, every server connection terminated (all at once, then the LISTEN ones one by one), WebSockets cut by the
 * proxy and a stalled reader, with retrying producers and resubscribing readers; the checker must find nothing.
 */
import { expect, test } from "vitest";
import { runChaos } from "../faults/chaos.ts";

const seed = Number(process.env.STARCITE_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));

test(`reduced chaos run (seed ${seed})`, async () => {
  const report = await runChaos({
    seed,
    // Postgres restarts, SIGSTOP and the second server's comings and goings take longer: they are in the full run.
    faults: ["kill9", "terminateAll", "cutWebSockets", "stallReader", "terminateListeners"],
    // One server process keeps the run short inside npm test; the full run has two.
    servers: 1,
    producers: 4,
    readers: 2,
    sessions: 2,
    gapMs: 200,
    pauseMs: 0,
  });
  console.log(`reduced chaos: ${JSON.stringify({ ...report, violations: report.violations.slice(0, 20) })}`);
  expect(report.violations, `seed ${seed}`).toEqual([]);
  expect(report.acknowledged).toBeGreaterThan(50);
}, 120_000);
