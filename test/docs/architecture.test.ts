/** README's Architecture section names every folder (and top-level file) of src/ and the repository's top-level folders. */
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "vitest";
import { ROOT } from "../helpers/node.ts";

const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
const section = readme.slice(readme.indexOf("## Architecture"), readme.indexOf("```\n\n", readme.indexOf("## Architecture")));
const listed = new Set([...section.matchAll(/^(\S+)\s{2,}/gm)].map((m) => m[1]!));

test("every entry of src/ is in README's architecture section, and every entry there exists", () => {
  const src = fs
    .readdirSync(path.join(ROOT, "src"), { withFileTypes: true })
    .map((e) => (e.isDirectory() ? `src/${e.name}/` : `src/${e.name}`));
  for (const entry of src) expect(listed, entry).toContain(entry);
  for (const entry of listed) expect(fs.existsSync(path.join(ROOT, entry)), entry).toBe(true);
  for (const top of ["db/", "test/", "bench/", "scripts/", "docs/", "examples/"]) expect(listed, top).toContain(top);
});
