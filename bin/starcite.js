#!/usr/bin/env node
// The starcite CLI: plain Node running the built JavaScript in dist/ (`npm install` builds it, or `npm run build`).
// A file of its own rather than dist/cli/main.js itself, so that npm can link the bin before the build exists.
const main = new URL("../dist/cli/main.js", import.meta.url);
try {
  await import(main.href);
} catch (error) {
  if (error?.code !== "ERR_MODULE_NOT_FOUND" || !String(error.message).includes(main.pathname)) throw error;
  process.stderr.write("starcite: the CLI is not built yet; run `npm run build` in the starcite package\n");
  process.exit(1);
}
