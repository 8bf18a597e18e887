#!/usr/bin/env node
// The starcite CLI. The sources are TypeScript: tsx compiles them on the fly.
import { register } from "tsx/esm/api";

register();
await import(new URL("../src/cli/main.ts", import.meta.url).href);
