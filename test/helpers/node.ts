import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Node flags that run the repository's TypeScript sources (workspaces included) without a build. */
export const SOURCE_NODE_ARGS = ["--conditions=@starcite/source", "--import", "tsx"];
