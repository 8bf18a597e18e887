import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { printedSchema } from "./schema/index.ts";

const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../schema.graphql");
fs.writeFileSync(target, printedSchema());
process.stdout.write(`wrote ${target}\n`);
