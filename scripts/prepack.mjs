#!/usr/bin/env node
// `npm pack` / `npm publish` of a workspace: ship the repository's LICENSE and require a fresh build.
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
fs.copyFileSync(path.join(root, "LICENSE"), "LICENSE");
if (!fs.existsSync("dist")) {
  console.error(`${process.cwd()}: no dist/ — run \`npm run build\` at the repository root first`);
  process.exit(1);
}
