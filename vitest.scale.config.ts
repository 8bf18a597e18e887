import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

/**
 * `npm run test:scale`: the suites that run several server processes or measure latency under load (test/scale).
 * One file at a time, so that their timings are not shared with other suites.
 */
export default defineConfig({
  ...base,
  test: { ...base.test, projects: undefined, include: ["test/scale/**/*.test.ts"], fileParallelism: false, testTimeout: 180_000 },
});
