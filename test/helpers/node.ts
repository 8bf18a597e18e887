import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Node flags that run the repository's TypeScript sources (workspaces included) without a build. */
export const SOURCE_NODE_ARGS = ["--conditions=@starcite/source", "--import", "tsx"];

/** True while a process with this pid exists (signal 0 checks without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
