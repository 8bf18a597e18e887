import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Starcite, type StarciteEvent } from "@starcite/sdk";
import { CHAT_USER_MESSAGE, CHAT_USER_STOP, projectChat } from "@starcite/sdk/ai";
import { answerFor, ChatAgents, mockModel, tokensOf } from "../../examples/chat/agent.ts";
import { chatApi } from "../../examples/chat/api.ts";
import { startTestServer, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";
import { adminKey, eventually, startProxy, until, type Proxy } from "../sdk/support.ts";
import { ARTIFACTS, CHROMIUM_FLAGS, findChromium, freshProfile, removeProfile } from "./support.ts";

/**
 * The chat example (examples/chat: the landing page's snippet verbatim, in StrictMode) in headless
 * Chromium against a real server and the example's AI SDK agent with the mock model. The page talks to
 * starcite through a TCP proxy the test can cut. Every step leaves a screenshot in test-results/browser/.
 */
const chromiumPath = findChromium();
const here = path.dirname(fileURLToPath(import.meta.url));
const TOKEN_MS = 40;

let s: TestServer;
let proxy: Proxy;
let backend: Starcite;
let agents: ChatAgents;
let site: http.Server;
let siteUrl: string;
let context: BrowserContext;
let profile: string;
const model = { tokens: 0, cancels: 0, hold: null as Promise<void> | null };
const measured: Record<string, number | string> = {};

beforeAll(async () => {
  if (!chromiumPath) return;
  s = await startTestServer({ auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET } });
  proxy = await startProxy(s.server.port);
  backend = new Starcite({ baseUrl: s.url, apiKey: await adminKey(s.db) });
  agents = new ChatAgents(
    backend,
    mockModel({
      chunkDelayInMs: TOKEN_MS,
      onToken: () => model.tokens++,
      onCancel: () => model.cancels++,
      beforeToken: () => model.hold ?? undefined,
    }),
  );
  const api = chatApi(backend, agents);

  const esbuild = await import("esbuild");
  const build = async (react?: string) =>
    (
      await esbuild.build({
        entryPoints: [path.join(here, "../../examples/chat/src/main.tsx")],
        bundle: true,
        platform: "browser",
        format: "esm",
        write: false,
        logLevel: "silent",
        jsx: "automatic",
        conditions: ["@starcite/source"],
        define: { "process.env.NODE_ENV": '"development"' },
        ...(react ? { alias: { react: `${react}/react`, "react-dom": `${react}/react-dom` } } : {}),
      })
    ).outputFiles[0]!.text;
  // The same app against React 19 (the repository's) and React 18: test/react18 is a package of its own (two
  // Reacts cannot share the workspace's node_modules), installed from its lockfile on first use.
  const react18 = path.join(here, "../react18");
  if (!fs.existsSync(path.join(react18, "node_modules/react-dom/package.json"))) {
    execFileSync("npm", ["ci", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: react18, stdio: "ignore" });
  }
  const [app, app18] = await Promise.all([build(), build(path.join(react18, "node_modules"))]);
  expect(app18).toContain('"18.3.');
  expect(app).toContain('"19.');
  const page = (script: string) =>
    fs
      .readFileSync(path.join(here, "../../examples/chat/index.html"), "utf8")
      .replace("<!--starcite-config-->", `<script>globalThis.STARCITE_URL = ${JSON.stringify(proxy.url)};</script>`)
      .replace("/src/main.tsx", script);
  const html = page("/app.js");
  const html18 = page("/app18.js");
  site = http.createServer((req, res) => {
    void (async () => {
      if (await api(req, res)) return;
      if (req.url === "/app.js" || req.url === "/app18.js")
        res.writeHead(200, { "content-type": "text/javascript" }).end(req.url === "/app.js" ? app : app18);
      else if (req.url === "/" || req.url?.startsWith("/?")) {
        res
          .writeHead(200, { "content-type": "text/html" })
          .end(new URL(req.url, siteUrl).searchParams.get("react") === "18" ? html18 : html);
      } else res.writeHead(404).end();
    })();
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}`;

  profile = freshProfile();
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 900, height: 700 },
  });
  // In every page, before its scripts: record each change of the rendered chat (text, ids, status).
  await context.addInitScript(() => {
    type Sample = { t: number; ids: string[]; roles: string[]; texts: string[]; status: string | undefined };
    const w = window as unknown as { __chat: { samples: Sample[]; sentAt?: number; errors: string[] } };
    w.__chat = { samples: [], errors: [] };
    const record = () => {
      const items = [...document.querySelectorAll<HTMLElement>("[data-message-id]")];
      const sample: Sample = {
        t: performance.now(),
        ids: items.map((el) => el.dataset.messageId!),
        roles: items.map((el) => el.dataset.role!),
        texts: items.map((el) => el.querySelector("[data-testid=text]")?.textContent ?? ""),
        status: document.querySelector<HTMLElement>("[data-testid=status]")?.dataset.status,
      };
      const last = w.__chat.samples.at(-1);
      if (!last || JSON.stringify([last.ids, last.texts, last.status]) !== JSON.stringify([sample.ids, sample.texts, sample.status]))
        w.__chat.samples.push(sample);
    };
    new MutationObserver(record).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
    document.addEventListener(
      "click",
      (e) => {
        if ((e.target as HTMLElement).closest?.("[data-testid=send]")) w.__chat.sentAt = performance.now();
      },
      true,
    );
    window.addEventListener("error", (e) => w.__chat.errors.push(String(e.message)));
  });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (profile) removeProfile(profile);
  await agents?.close();
  await new Promise((resolve) => (site ? site.close(resolve) : resolve(undefined)));
  await proxy?.close();
  await s?.close();
  if (firstTokenMs.length) measured.timeToFirstTokenMs = firstTokenMs.join(", ");
  if (Object.keys(measured).length) console.log(`browser chat measurements: ${JSON.stringify(measured)}\nscreenshots: ${ARTIFACTS}`);
});

interface Sample {
  t: number;
  ids: string[];
  roles: string[];
  texts: string[];
  status: string | undefined;
}
interface Observed {
  samples: Sample[];
  sentAt?: number;
  errors: string[];
}

const observed = (page: Page) => page.evaluate(() => (window as unknown as { __chat: Observed }).__chat);
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
const statusOf = (page: Page) => page.getAttribute("[data-testid=status]", "data-status");
const assistantText = async (page: Page) => (await page.locator("[data-role=assistant] [data-testid=text]").allTextContents()).at(-1) ?? "";
const words = (text: string) => text.split(" ").filter(Boolean).length;

/** Polls the page (each check is a real round trip to it) until `check` holds. */
async function pageUntil(page: Page, check: () => Promise<boolean>, label: string, timeoutMs = 20_000): Promise<void> {
  await page.waitForFunction(() => true); // the page is alive
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(
        `${label}: not within ${timeoutMs} ms (status ${await statusOf(page)}, text ${JSON.stringify(await assistantText(page))})`,
      );
    await page.waitForTimeout(15);
  }
}

async function newPage(): Promise<Page> {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  page.on("console", (m) => {
    // Failed connects while the network is cut are the point of that scenario, not a fault.
    if (m.type() === "error" && !/ERR_INTERNET_DISCONNECTED|ERR_CONNECTION|status of 404/.test(m.text()))
      console.error("page console:", m.text());
  });
  return page;
}

async function openChat(sessionId?: string, react?: "18"): Promise<{ page: Page; sessionId: string }> {
  const page = await newPage();
  const query = new URLSearchParams({ ...(sessionId ? { session: sessionId } : {}), ...(react ? { react } : {}) });
  await page.goto(`${siteUrl}/?${query}`);
  await page.waitForSelector("[data-testid=input]");
  await pageUntil(page, async () => (await statusOf(page)) === "ready", "chat ready");
  return { page, sessionId: new URL(page.url()).searchParams.get("session")! };
}

async function send(page: Page, text: string): Promise<void> {
  await page.fill("[data-testid=input]", text);
  await page.click("[data-testid=send]");
}

/** Click to first assistant text on screen, per scenario (the first one includes the agent's warm-up). */
const firstTokenMs: number[] = [];
async function recordFirstToken(page: Page): Promise<void> {
  const o = await observed(page);
  const first = o.samples.find((x) => (x.texts[x.roles.indexOf("assistant")] ?? "").length > 0);
  if (first && o.sentAt !== undefined) firstTokenMs.push(Math.round(first.t - o.sentAt));
}

const streamingPast = (page: Page, n: number) => pageUntil(page, async () => words(await assistantText(page)) >= n, `${n} words streamed`);
const ready = (page: Page) => pageUntil(page, async () => (await statusOf(page)) === "ready", "status ready");

async function logOf(sessionId: string): Promise<StarciteEvent[]> {
  return (await backend.readEvents(sessionId, { after: 0, limit: 1000 })).events;
}

/** Every rendered state was a prefix of the final one: no text twice, no message twice, never a step back. */
function expectMonotonic(samples: Sample[], question: string, full: string) {
  for (const sample of samples) {
    expect(new Set(sample.ids).size, "no message id twice").toBe(sample.ids.length);
    expect(sample.roles.filter((r) => r === "user").length).toBeLessThanOrEqual(1);
    expect(sample.roles.filter((r) => r === "assistant").length).toBeLessThanOrEqual(1);
    const a = sample.roles.indexOf("assistant");
    if (a >= 0) expect(full.startsWith(sample.texts[a]!), `rendered ${JSON.stringify(sample.texts[a])}`).toBe(true);
    const u = sample.roles.indexOf("user");
    if (u >= 0) expect(sample.texts[u]).toBe(question);
  }
}

describe.skipIf(!chromiumPath)("the chat example in headless Chromium", () => {
  test.each([
    ["19", undefined],
    ["18", "18"],
  ] as const)("React %s, StrictMode: send a message, it streams to completion", async (_v, react) => {
    const { page, sessionId } = await openChat(undefined, react);
    const q = "What does clause 4.2 say?";
    await send(page, q);
    await streamingPast(page, 5);
    await recordFirstToken(page);
    expect(await statusOf(page)).toBe("streaming");
    await shot(page, `1-send-react${_v}-streaming`);
    await ready(page);
    await shot(page, `1-send-react${_v}-done`);
    const full = answerFor(q);
    expect(await assistantText(page)).toBe(full);
    const o = await observed(page);
    expect(o.errors).toEqual([]);
    expectMonotonic(o.samples, q, full);
    const first = o.samples.find((x) => x.roles.includes("assistant") && x.texts[x.roles.indexOf("assistant")]!.length > 0)!;
    if (_v === "19") measured.timeToFirstTokenColdMs = Math.round(first.t - o.sentAt!);
    const statuses = o.samples.map((x) => x.status).filter((x, i, all) => x !== undefined && x !== all[i - 1]);
    expect(statuses).toEqual(["ready", "submitted", "streaming", "ready"]);
    // StrictMode mounted everything twice: the question is in the log once.
    expect((await logOf(sessionId)).filter((e) => e.type === CHAT_USER_MESSAGE)).toHaveLength(1);
    await page.close();
  });

  test("reload mid-stream: the same partial answer comes back and continues to the exact full text", async () => {
    const { page } = await openChat();
    const q = "Reload me";
    const full = answerFor(q);
    await send(page, q);
    await streamingPast(page, 10);
    await recordFirstToken(page);
    const before = await assistantText(page);
    await shot(page, "2-reload-before");
    await page.reload();
    await page.waitForSelector("[data-testid=input]");
    await pageUntil(page, async () => (await assistantText(page)).length >= before.length, "partial answer back");
    await shot(page, "2-reload-after");
    expect(full.startsWith(await assistantText(page))).toBe(true);
    await ready(page);
    await shot(page, "2-reload-done");
    expect(await assistantText(page)).toBe(full);
    const o = await observed(page);
    expectMonotonic(o.samples, q, full);
    const back = o.samples.find((x) => (x.texts[x.roles.indexOf("assistant")] ?? "").length >= before.length)!;
    measured.catchUpAfterReloadMs = Math.round(back.t); // from the reload's navigation start
    expect(
      o.samples.some((x) => x.status === "streaming"),
      "it was still streaming after the reload",
    ).toBe(true);
    await page.close();
  });

  test("a second tab opened mid-stream streams the same answer live and ends identical", async () => {
    const { page: a, sessionId } = await openChat();
    const q = "Two tabs";
    const full = answerFor(q);
    await send(a, q);
    await streamingPast(a, 10);
    await recordFirstToken(a);
    // Hold the model mid-answer until the second tab shows the partial text, whatever the machine's speed.
    let release!: () => void;
    model.hold = new Promise<void>((resolve) => (release = resolve));
    const b = await newPage();
    await b.goto(`${siteUrl}/?session=${sessionId}`);
    await streamingPast(b, 1);
    await shot(a, "3-tabs-a-streaming");
    await shot(b, "3-tabs-b-streaming");
    const partial = await assistantText(b);
    model.hold = null;
    release();
    await Promise.all([ready(a), ready(b)]);
    await shot(b, "3-tabs-b-done");
    const [oa, ob] = await Promise.all([observed(a), observed(b)]);
    expect(ob.samples.at(-1)!.ids).toEqual(oa.samples.at(-1)!.ids);
    expect(ob.samples.at(-1)!.texts).toEqual(oa.samples.at(-1)!.texts);
    expect(await assistantText(b)).toBe(full);
    expectMonotonic(ob.samples, q, full);
    // B did not just load the final answer: it showed the partial one first, then watched it grow live.
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(full.length);
    const grown = new Set(ob.samples.map((x) => x.texts[x.roles.indexOf("assistant")]).filter(Boolean));
    expect(grown.has(partial) && grown.has(full)).toBe(true);
    await Promise.all([a.close(), b.close()]);
  });

  test("stop mid-stream: the agent stops producing, the partial answer stays in both tabs, status returns to ready", async () => {
    const { page: a, sessionId } = await openChat();
    const { page: b } = await openChat(sessionId);
    const q = "Stop me";
    const full = answerFor(q);
    await send(a, q);
    await Promise.all([streamingPast(a, 5), streamingPast(b, 5)]);
    await recordFirstToken(a);
    const cancels = model.cancels;
    await b.click("[data-testid=stop]");
    await Promise.all([ready(a), ready(b)]);
    await until(() => model.cancels === cancels + 1, 10_000, "the model's stream cancelled");
    // The agent's abort chunk closes the turn in the log; both tabs then show the same partial answer.
    const endsWithAbort = (events: StarciteEvent[]) =>
      (events.filter((e) => e.type === "chat.assistant.chunk").at(-1)?.payload.chunk as { type?: string } | undefined)?.type === "abort";
    await eventually(async () => endsWithAbort(await logOf(sessionId)), 10_000, "abort chunk in the log");
    const log = await logOf(sessionId);
    const stop = log.find((e) => e.type === CHAT_USER_STOP)!;
    expect(stop.actor).toBe("user:web");
    const chat = projectChat(log);
    const partial = chat.messages[1]!.parts.map((p) => ("text" in p ? p.text : "")).join("");
    await pageUntil(
      a,
      async () => (await assistantText(a)) === partial && (await assistantText(b)) === partial,
      "both tabs show the log's partial answer",
    );
    await shot(a, "4-stop-a");
    await shot(b, "4-stop-b");
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(full.length);
    expect(full.startsWith(partial)).toBe(true);
    expect(chat.status).toBe("ready");
    // The agent stopped producing: fewer tokens than the answer, nothing of the turn after its abort.
    expect(endsWithAbort(log)).toBe(true);
    measured.chunksAfterStop = log.filter((e) => e.seq > stop.seq && e.type === "chat.assistant.chunk").length - 1;
    await Promise.all([a.close(), b.close()]);
  });

  test("the page's network cut for seconds mid-stream: it catches up with no gap", async () => {
    const { page, sessionId } = await openChat();
    const q = "Cut the network";
    const full = answerFor(q);
    await send(page, q);
    await streamingPast(page, 8);
    await recordFirstToken(page);
    const tokensAtCut = model.tokens;
    const cutAt = Date.now();
    await context.setOffline(true);
    proxy.refuse(true);
    proxy.dropAll();
    // Cut until the agent has finished the whole answer server-side (a few seconds).
    await until(() => model.tokens - tokensAtCut >= 20, 20_000, "agent writing while the page is offline");
    await pageUntil(page, async () => projectChat(await logOf(sessionId)).status === "ready", "answer complete in the log", 30_000);
    const shownWhileCut = await assistantText(page);
    await shot(page, "5-offline");
    expect(shownWhileCut.length).toBeLessThan(full.length); // the cut was real: the page missed the rest
    const cutMs = Date.now() - cutAt;
    const restoredAt = Date.now();
    proxy.refuse(false);
    await context.setOffline(false);
    await pageUntil(page, async () => (await assistantText(page)) === full, "caught up after the cut", 30_000);
    measured.offlineMs = cutMs;
    measured.catchUpAfterNetworkBackMs = Date.now() - restoredAt;
    await ready(page);
    await shot(page, "5-back-online");
    expectMonotonic((await observed(page)).samples, q, full);
    await page.close();
  });
});

// A sanity check of the numbers the scenarios rely on.
test("the mock answer is long enough to interrupt", () => {
  expect(tokensOf(answerFor("x")).length * TOKEN_MS).toBeGreaterThan(1500);
});
