import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Starcite } from "@starcite/sdk";
import { startTestServer, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";
import { adminKey } from "./support.ts";
import { CHROMIUM_FLAGS, findChromium, freshProfile, removeProfile } from "../browser/support.ts";

/**
 * The SDK in a real browser: bundled for the browser (no Node built-ins, no `ws`), loaded by headless
 * Chromium from a page on another origin, driven over the DevTools protocol. Skipped where no Chromium
 * is installed, unless STARCITE_REQUIRE_BROWSER=1 (CI), where that fails.
 */
const chromiumPath = findChromium();
// CI (.ci/run) sets STARCITE_REQUIRE_BROWSER=1: there findChromium() fails the run instead of skipping.

/** A minimal DevTools-protocol client: one page, Runtime.evaluate. */
class Cdp {
  #id = 0;
  #pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  constructor(private readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
      const p = msg.id !== undefined ? this.#pending.get(msg.id) : undefined;
      if (!p) return;
      this.#pending.delete(msg.id!);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
  }
  static async connect(url: string): Promise<Cdp> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    return new Cdp(ws);
  }
  send(method: string, params: Record<string, unknown> = {}): Promise<any> {
    const id = ++this.#id;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject }));
  }
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }
  close() {
    this.ws.close();
  }
}

let s: TestServer;
let apiKey: string;
let page: http.Server;
let pageUrl: string;
let browser: ChildProcess | undefined;
let cdp: Cdp;
let profile: string;

beforeAll(async () => {
  if (!chromiumPath) return;
  s = await startTestServer({ auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET } });
  apiKey = await adminKey(s.db);
  const esbuild = await import("esbuild");
  const bundle = await esbuild.build({
    entryPoints: [fileURLToPath(new URL("../../src/sdk/index.ts", import.meta.url))],
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    logLevel: "silent",
  });
  const sdk = bundle.outputFiles[0]!.text;
  page = http.createServer((req, res) => {
    if (req.url === "/sdk.js") res.writeHead(200, { "content-type": "text/javascript" }).end(sdk);
    else
      res
        .writeHead(200, { "content-type": "text/html" })
        .end(`<!doctype html><script type="module">import * as sdk from "/sdk.js"; window.sdk = sdk; window.ready = true;</script>`);
  });
  await new Promise<void>((resolve) => page.listen(0, "127.0.0.1", resolve));
  pageUrl = `http://127.0.0.1:${(page.address() as { port: number }).port}/`;
  profile = freshProfile();
  browser = spawn(chromiumPath, [...CHROMIUM_FLAGS, "--remote-debugging-port=0", `--user-data-dir=${profile}`, pageUrl], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const devtools = await new Promise<string>((resolve, reject) => {
    let err = "";
    browser!.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    browser!.once("exit", () => reject(new Error(`chromium exited: ${err}`)));
  });
  const { port } = new URL(devtools);
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
    type: string;
    url: string;
    webSocketDebuggerUrl: string;
  }[];
  cdp = await Cdp.connect(targets.find((t) => t.type === "page")!.webSocketDebuggerUrl);
  await waitForPage();
}, 60_000);

async function waitForPage() {
  const deadline = Date.now() + 15_000;
  while (!(await cdp.evaluate<boolean>("window.ready === true"))) {
    if (Date.now() > deadline) throw new Error("the page did not load the SDK bundle");
    await new Promise((r) => setTimeout(r, 20));
  }
}

afterAll(async () => {
  cdp?.close();
  if (browser && browser.exitCode === null) {
    const exited = new Promise((resolve) => browser!.once("exit", resolve));
    browser.kill("SIGTERM");
    await exited;
  }
  if (profile) removeProfile(profile);
  await new Promise((resolve) => (page ? page.close(resolve) : resolve(undefined)));
  await s?.close();
});

/** Runs in the page: a session from a token, collect `count` events, optionally append one once live. */
const inPage = (baseUrl: string, token: string, count: number, text?: string) => `(async () => {
  const { Starcite } = window.sdk;
  const starcite = new Starcite({ baseUrl: ${JSON.stringify(baseUrl)} });
  const session = starcite.session({ token: ${JSON.stringify(token)} });
  const got = [];
  const errors = [];
  session.on("error", (e) => errors.push(e.code));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out with " + JSON.stringify(got) + " " + errors)), 15000);
    let appended = false;
    const wantsAppend = ${JSON.stringify(text ?? null)} !== null;
    // Done when every event arrived and, if we appended, its result did too (either may come first).
    const check = () => {
      if (got.filter((g) => g.seq).length >= ${count} && (!wantsAppend || got.some((g) => g.appended))) {
        clearTimeout(timer);
        resolve();
      }
    };
    session.on("status", async (status) => {
      if (status === "live" && wantsAppend && !appended) {
        appended = true;
        got.push({ appended: await session.append({ text: ${JSON.stringify(text ?? "")} }) });
        check();
      }
    });
    session.on("event", (event, { phase }) => {
      got.push({ seq: event.seq, actor: event.actor, text: event.payload.text, phase });
      check();
    });
  });
  await session.close();
  return { id: session.id, got, errors, stored: localStorage.getItem("starcite:cursor:" + session.id + ":user:alice") };
})()`;

test.skipIf(!chromiumPath)(
  "in headless Chromium: a token session replays, appends as its principal, goes live, and a reload resumes from localStorage",
  async () => {
    const backend = new Starcite({ baseUrl: s.url, apiKey });
    const drafter = await backend.session({ identity: backend.agent({ id: "drafter" }), id: "ses_browser" });
    await drafter.append({ text: "Drafting clause 4.2..." });
    const { token } = await backend.createSessionToken({ sessionId: "ses_browser", principal: { type: "user", id: "alice" } });

    const first = await cdp.evaluate<{ id: string; got: any[]; errors: string[]; stored: string }>(inPage(s.url, token, 2, "Looks good"));
    expect(first.id).toBe("ses_browser");
    expect(first.errors).toEqual([]);
    expect(first.got.filter((g) => g.seq)).toEqual([
      { seq: 1, actor: "agent:drafter", text: "Drafting clause 4.2...", phase: "replay" },
      { seq: 2, actor: "user:alice", text: "Looks good", phase: "live" },
    ]);
    expect(first.got.find((g) => g.appended).appended).toEqual({ seq: 2, deduped: false, lastSeq: 2 });
    expect(first.stored).toBe("2");

    // A page reload: the cursor in localStorage survives, so only what came after is delivered.
    await cdp.evaluate("window.ready = false");
    await cdp.send("Page.reload");
    await waitForPage();
    await drafter.append({ text: "Clause 4.3 next." });
    const second = await cdp.evaluate<{ got: any[]; stored: string }>(inPage(s.url, token, 1));
    expect(second.got).toEqual([{ seq: 3, actor: "agent:drafter", text: "Clause 4.3 next.", phase: "replay" }]);
    expect(second.stored).toBe("3");
    await drafter.close();
  },
);
