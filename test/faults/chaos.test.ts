/**
 * The full fault-injection run (npm run test:faults; also in .ci/run): every fault kind several times, with
 * retrying producers and resubscribing readers, then the checker over the whole history. A failing run prints
 * its seed: STARCITE_FAULT_SEED=<seed> npm run test:faults replays the same schedule.
 */
import { expect, test } from "vitest";
import { FAULT_KINDS, runChaos } from "./chaos.ts";

const seed = Number(process.env.STARCITE_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const rounds = Number(process.env.STARCITE_FAULT_ROUNDS ?? 3);

test(
  `chaos: every fault kind ${rounds} times (seed ${seed})`,
  async () => {
    const report = await runChaos({
      seed,
      faults: Array.from({ length: rounds }, () => [...FAULT_KINDS]).flat(),
      shuffle: true,
      producers: 8,
      readers: 4,
      sessions: 2,
      gapMs: 600,
      pauseMs: 13_000,
      log: (line) => console.log(line),
    });
    console.log(`chaos report: ${JSON.stringify({ ...report, violations: report.violations.slice(0, 20) })}`);
    expect(report.violations, `seed ${seed}`).toEqual([]);
    expect(report.acknowledged).toBeGreaterThan(0);
  },
  30 * 60_000,
);
