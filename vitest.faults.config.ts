import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

/**
 * `npm run test:faults`: the full fault-injection run (test/faults). STARCITE_FAULT_SEED replays a schedule;
 * STARCITE_FAULT_ROUNDS scales it. (The script then runs the fuzz suite with more cases.)
 */
export default defineConfig({
  ...base,
  test: { ...base.test, projects: undefined, include: ["test/faults/**/*.test.ts"], testTimeout: 30 * 60_000 },
});
