import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

/**
 * `npm run test:faults`: the full fault-injection run (test/faults) and the fuzz suite with many more cases.
 * STARCITE_FAULT_SEED replays a schedule; STARCITE_FAULT_ROUNDS and STARCITE_FUZZ_RUNS scale them.
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    projects: undefined,
    include: ["test/faults/**/*.test.ts", "test/hostile/fuzz.test.ts"],
    env: { STARCITE_FUZZ_RUNS: process.env.STARCITE_FUZZ_RUNS ?? "150" },
    testTimeout: 30 * 60_000,
  },
});
