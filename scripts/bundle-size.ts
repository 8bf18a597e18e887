/**
 * `npm run size`: minified + gzipped size of what each browser entry adds to an app bundle (esbuild,
 * ESM, browser). `react`, `react-dom` and `ai` are always the app's own; `graphql-ws` is the SDK's one
 * dependency and is counted with it. (An external package name covers its subpaths too, so the `ai`
 * entry is measured with the SDK core: the difference of the last two lines is what it adds.)
 */
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const entries: [string, string, string[]][] = [
  ["@starcite/react (alone: SDK external)", 'export * from "@starcite/react";', ["@starcite/sdk", "@starcite/sdk/ai"]],
  [
    "@starcite/react + @starcite/sdk (what the snippet adds)",
    'export * from "@starcite/react"; export { Starcite } from "@starcite/sdk";',
    [],
  ],
  ["@starcite/sdk", 'export * from "@starcite/sdk";', []],
  ["@starcite/sdk + @starcite/sdk/ai", 'export * from "@starcite/sdk"; export * from "@starcite/sdk/ai";', []],
];

for (const [name, contents, external] of entries) {
  const result = await build({
    stdin: { contents, resolveDir: process.cwd(), loader: "ts" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    write: false,
    logLevel: "silent",
    conditions: ["@starcite/source"],
    external: ["react", "react-dom", "ai", ...external],
  });
  const code = result.outputFiles[0]!.contents;
  console.log(
    `${name.padEnd(58)} ${(code.length / 1024).toFixed(1).padStart(6)} KiB min  ${(gzipSync(code).length / 1024).toFixed(1).padStart(5)} KiB gzip`,
  );
}
