import { execFile } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import { COMMANDS } from "../../src/cli/commands.ts";
import type { TestServer } from "../helpers/server.ts";
import { cli, expectError, startCli, tempHome, useConfiguredCli } from "./support.ts";

let s: TestServer;
let key: string;
let home: string;
const env = useConfiguredCli();
/** Runs starcite with this file's HOME, whose config points at the test server. */
const sc = env.sc;
beforeAll(() => {
  ({ s, key, home } = env);
});

describe("config", () => {
  test("show masks the key and says where each setting comes from; env and --config-dir override", async () => {
    const shown = await sc("config", "show");
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`endpoint:    ${s.url}/graphql  (config file)`);
    expect(shown.stdout).toContain(`api-key:     ${key.slice(0, 8)}…(${key.length} chars)  (config file)`);
    expect(shown.stdout).not.toContain(key);

    const fromEnv = await cli(["config", "show", "--json"], {
      home,
      env: { STARCITE_ENDPOINT: "http://elsewhere:1", STARCITE_API_KEY: "sk_fromenvironment0000" },
    });
    expect(JSON.parse(fromEnv.stdout)).toMatchObject({
      endpoint: "http://elsewhere:1",
      endpointSource: "env",
      apiKey: "sk_frome…(22 chars)",
      apiKeySource: "env",
    });

    const dir = path.join(home, "other-config");
    expect((await sc("--config-dir", dir, "config", "set", "endpoint", "http://other.example")).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"))).toEqual({ endpoint: "http://other.example" });
    const other = await sc("config", "show", "--config-dir", dir);
    expect(other.stdout).toContain("endpoint:    http://other.example  (config file)");
    expect(other.stdout).toContain("api-key:     (not set)");
  });

  test("bad settings are refused with one line and exit 2", async () => {
    expectError(await sc("config", "set", "endpoint", "not a url"), "invalid_argument", 1);
    expectError(await sc("config", "set", "colour", "blue"), "usage", 2);
    expectError(await sc("config", "set", "endpoint"), "usage", 2);
  });

  test("without an endpoint, commands say how to set one", async () => {
    const empty = tempHome();
    try {
      expectError(await cli(["create"], { home: empty }), "no_endpoint");
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
  test("an unreachable server is a one-line network_error", async () => {
    expectError(await sc("sessions", "list", "--endpoint", "http://127.0.0.1:9"), "network_error");
  });

  test("Ctrl-C ends a waiting command at once with exit code 130", async () => {
    // A server that accepts connections and never answers.
    const sockets: net.Socket[] = [];
    let connected!: () => void;
    const reached = new Promise<void>((resolve) => (connected = resolve));
    const blackHole = net.createServer((socket) => {
      sockets.push(socket);
      connected();
    });
    await new Promise<void>((resolve) => blackHole.listen(0, "127.0.0.1", resolve));
    const run = startCli(["sessions", "list", "--endpoint", `http://127.0.0.1:${(blackHole.address() as net.AddressInfo).port}`], { home });
    await reached;
    run.signal("SIGINT");
    expect((await run.exited).code).toBe(130);
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => blackHole.close(resolve));
  });

  test("npx starcite runs the package's bin from the repository", async () => {
    const repo = fileURLToPath(new URL("../..", import.meta.url));
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile("npx", ["--no-install", "starcite", "--version"], { cwd: repo, env: { ...process.env, HOME: home } }, (error, stdout) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout }),
      );
    });
    expect(result).toEqual({
      code: 0,
      stdout: `starcite ${JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8")).version}\n`,
    });
  });

  test("--help on every command, the group commands and the top level", async () => {
    const helps = await Promise.all(COMMANDS.map((c) => sc(...c.name.split(" "), "--help")));
    helps.forEach((h, i) => {
      expect(h.code).toBe(0);
      expect(h.stdout.startsWith(`Usage: starcite ${COMMANDS[i]!.name}`)).toBe(true);
      expect(h.stdout).toContain("Examples:");
    });
    const top = await sc("--help");
    expect(top.code).toBe(0);
    for (const c of COMMANDS) expect(top.stdout).toContain(c.name);
    expect((await sc("keys", "--help")).stdout).toContain("keys revoke");
    expect((await sc("help", "tail")).stdout.startsWith("Usage: starcite tail")).toBe(true);
    expectError(await sc("frobnicate"), "usage", 2);
  });
});
