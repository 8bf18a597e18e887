import { createRequire } from "node:module";
import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

// The workspaces' TypeScript sources instead of their builds (see the exports maps' "@starcite/source"). Without
// "module": packages whose "module" build is bundler-only ESM (@aws-sdk's dist-es: extensionless imports) would be
// handed to Node as is; Node itself never uses that condition.
const conditions = ["@starcite/source", ...defaultServerConditions.filter((c) => c !== "module")];

export default defineConfig({
  resolve: {
    conditions,
    // graphql ships CJS ("main") and ESM ("module"). Node loads the CJS build for our dependencies (Yoga,
    // graphql-ws); make Vite resolve our own imports to the same file, so there is one GraphQLError class.
    alias: [{ find: /^graphql$/, replacement: require.resolve("graphql") }],
  },
  ssr: { resolve: { conditions, externalConditions: ["@starcite/source"] } },
  test: {
    globalSetup: ["test/setup/global.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each file gets its own database cloned from a migrated template, so files run in parallel.
    fileParallelism: true,
    projects: [
      {
        extends: true,
        test: {
          name: "starcite",
          include: ["test/**/*.test.ts"],
          // Suites with their own npm scripts (and a place in .ci/run): packed tarballs, fault injection, the
          // Durable Streams conformance suite, scale-out.
          exclude: ["test/packages/**", "test/faults/**", "test/conformance/**", "test/scale/**", "node_modules/**"],
        },
      },
      {
        // The GraphQL contract once more with the fast paths off: they must not change any answer.
        extends: true,
        test: { name: "no-fast-paths", include: ["test/graphql/contract.test.ts"], env: { STARCITE_FAST_PATHS: "off" } },
      },
    ],
  },
});
