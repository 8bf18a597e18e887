#!/usr/bin/env node
// The registry these machines use answers 404 for some optional platform packages (dbmate's and
// msgpackr-extract's binaries for macOS, Windows, ARM), so `npm install` here cannot record them and
// `npm ci` then refuses the lockfile ("Missing: @dbmate/darwin-arm64 from lock file"). npm never
// fetches another platform's optional package, so an entry with its version, os and cpu is all it needs.
// Run after any `npm install` that changes the lockfile; `--check` exits 1 when entries are missing.
import fs from "node:fs";

const file = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(fs.readFileSync(file, "utf8"));
const OS = { darwin: "darwin", linux: "linux", win32: "win32", windows: "win32", freebsd: "freebsd", android: "android" };
const CPU = ["arm64", "x64", "arm", "ia32", "ppc64", "s390x", "riscv64", "loong64"];

function platformOf(name) {
  const parts = name.split("/").pop().split("-");
  const os = parts.find((p) => p in OS);
  const cpu = parts.find((p) => CPU.includes(p));
  return os && cpu ? { os: [OS[os]], cpu: [cpu] } : null;
}

const added = [];
for (const [where, entry] of Object.entries(lock.packages)) {
  for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${where}/node_modules/${name}`;
    const top = `node_modules/${name}`;
    if (lock.packages[nested] || lock.packages[top]) continue;
    const platform = platformOf(name);
    const version = range.replace(/^[~^=]/, "");
    if (!platform || !/^\d+\.\d+\.\d+/.test(version)) continue;
    // Key order and the dev flag as npm itself writes them, so a later `npm install` leaves the file as is.
    const dev = entry.dev ? { dev: true } : {};
    lock.packages[top] = { version, cpu: platform.cpu, ...dev, optional: true, os: platform.os };
    added.push(`${name}@${version}`);
  }
}

if (process.argv.includes("--check")) {
  if (added.length) {
    console.error(`package-lock.json lacks optional platform packages: ${added.join(", ")}\nrun: node scripts/lock-optional-platforms.mjs`);
    process.exit(1);
  }
} else if (added.length) {
  lock.packages = Object.fromEntries(
    Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0)),
  );
  fs.writeFileSync(file, JSON.stringify(lock, null, 2) + "\n");
  console.log(`added ${added.length} optional platform entries: ${added.join(", ")}`);
}
