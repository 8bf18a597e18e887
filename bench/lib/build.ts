import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** How the bench runs the starcite server: tsc's JavaScript in dist/ (the production image's way) or src/ through tsx. */
export type ServerBuild = "dist" | "src";

export const serverBuild = (): ServerBuild => (process.env.BENCH_SERVER_BUILD === "src" ? "src" : "dist");

export const describeBuild = (build: ServerBuild): string =>
  build === "dist" ? "built JavaScript (dist/, tsc), as the production image runs it" : "src/ through tsx";

/**
 * A function that builds dist/ from src/ (tsc -p tsconfig.build.json) the first time it is called, so that the
 * bench never measures a stale build and a run that never starts the server never waits for tsc (~15 s).
 */
export function onceBuilder(build: ServerBuild, log: (line: string) => void): () => void {
  let done = build === "src";
  return () => {
    if (done) return;
    const started = Date.now();
    const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
    execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
      cwd: path.join(path.dirname(fileURLToPath(import.meta.url)), "..", ".."),
      stdio: "inherit",
    });
    done = true;
    log(`server built to dist/ (tsc) in ${Date.now() - started} ms`);
  };
}
