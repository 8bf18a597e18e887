import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

/** `npm run test:packages`: the packed tarballs installed into fresh apps (test/packages). */
export default defineConfig({ ...base, test: { ...base.test, projects: undefined, include: ["test/packages/**/*.test.ts"] } });
