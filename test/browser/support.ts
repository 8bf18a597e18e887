import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Debian's Chromium (CHROMIUM_PATH, else `chromium` on the PATH). Where it is missing the browser tests
 * skip, except under STARCITE_REQUIRE_BROWSER=1 (CI), where a missing browser fails the run.
 */
export function findChromium(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    try {
      const found = execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
      if (found) return found;
    } catch {
      // try the next one
    }
  }
  if (process.env.STARCITE_REQUIRE_BROWSER === "1") {
    throw new Error("STARCITE_REQUIRE_BROWSER=1 but no Chromium was found: apt-get install -y chromium (or set CHROMIUM_PATH)");
  }
  return undefined;
}

/** The flags every browser test launches Chromium with (plus its own fresh --user-data-dir). */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A fresh, throw-away Chromium profile directory. */
export function freshProfile(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "starcite-chromium-"));
}

export function removeProfile(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  } catch {
    // a helper process still writing; the OS temp dir is cleaned eventually
  }
}

/** Where screenshots go: test-results/browser/ at the repository root (gitignored). */
export const ARTIFACTS = path.resolve(fileURLToPath(new URL("../../test-results/browser", import.meta.url)));
