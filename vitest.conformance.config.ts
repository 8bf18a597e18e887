import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

/**
 * `npm run test:conformance`: the Durable Streams conformance suite (test/conformance), with vitest's own 5 s test
 * timeout as the suite expects (its slow tests set their own).
 */
export default defineConfig({
  ...base,
  test: { ...base.test, projects: undefined, testTimeout: 5000, include: ["test/conformance/**/*.test.ts"] },
});
