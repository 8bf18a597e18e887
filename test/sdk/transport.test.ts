/**
 * The SDK's HTTP transport (src/sdk/transport.ts) against a real HTTP server that takes requests and holds them
 * unanswered: a request ends with `timeout` after its own deadline, with `closed` when the caller's signal aborts,
 * and leaves nothing attached to the caller's long-lived signal (a session's, shared by all its requests). Each
 * test runs twice: with the POST the SDK uses on Node by default (node:http, src/sdk/node-post.ts) and with the
 * global fetch (what browsers use, and what a `fetch` option replaces); both must answer alike.
 */
import { getEventListeners } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GraphQLHttp, type FetchLike } from "../../src/sdk/transport.ts";

let server: http.Server;
let url: string;
/** Requests the server has received and not answered, oldest first. */
const held: http.ServerResponse[] = [];
let received = 0;
const waiters: (() => void)[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const sent = Buffer.concat(chunks).toString("utf8");
      const body = JSON.stringify({ data: { ok: true } });
      if (req.headers["x-answer"] === "echo") {
        // What arrived, and whether its length matched the content-length header.
        const echo = JSON.stringify({
          data: { body: JSON.parse(sent) as unknown, lengthOk: Number(req.headers["content-length"]) === Buffer.byteLength(sent) },
        });
        res.writeHead(200, { "content-type": "application/json" }).end(echo);
      } else if (req.headers["x-answer"] === "slow") {
        // Longer than the node:http poster keeps an idle connection: a busy one must not be closed by that timer.
        setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end(body), 2_500);
      } else if (req.headers["x-answer"] === "503") {
        res.writeHead(503, { "content-type": "text/plain" }).end("busy");
      } else if (req.headers["x-answer"] === "cut") {
        // Headers and half a body, then the connection goes.
        res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
        res.write('{"data":');
        setImmediate(() => res.socket?.destroy());
      } else if (req.headers["x-answer"] === "yes") {
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
      } else {
        held.push(res);
      }
      received++;
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  for (const res of held.splice(0)) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Resolves once the server has received `n` requests in all. */
function receivedAtLeast(n: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (received >= n ? resolve() : waiters.push(check));
    check();
  });
}

const posts: [string, { fetch?: FetchLike }][] = [
  ["node:http (the default on Node)", {}],
  ["the global fetch", { fetch: (input, init) => globalThis.fetch(input, init) }],
];

describe.each(posts)("%s", (_name, via) => {
  test("a request nobody answers ends with timeout after the transport's deadline", async () => {
    const transport = new GraphQLHttp({ url, ...via, timeoutMs: 300 });
    const started = performance.now();
    await expect(transport.request("{ ok }", {})).rejects.toMatchObject({ code: "timeout" });
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  test("aborting the caller's signal ends the request in flight with closed", async () => {
    const transport = new GraphQLHttp({ url, ...via, timeoutMs: 30_000 });
    const session = new AbortController();
    const before = received;
    const pending = transport.request("{ ok }", {}, undefined, session.signal);
    await receivedAtLeast(before + 1);
    session.abort();
    await expect(pending).rejects.toMatchObject({ code: "closed" });
    // An already aborted signal: refused without waiting for the deadline.
    await expect(transport.request("{ ok }", {}, undefined, session.signal)).rejects.toMatchObject({ code: "closed" });
  });

  test("requests leave no listener on the caller's signal, answered or not", async () => {
    const answered = new GraphQLHttp({ url, ...via, timeoutMs: 30_000, headers: { "x-answer": "yes" } });
    const unanswered = new GraphQLHttp({ url, ...via, timeoutMs: 200 });
    const session = new AbortController();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => answered.request<{ ok: boolean }>("{ ok }", {}, undefined, session.signal)),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    await expect(unanswered.request("{ ok }", {}, undefined, session.signal)).rejects.toMatchObject({ code: "timeout" });
    expect(getEventListeners(session.signal, "abort")).toHaveLength(0);
  });

  test("a multi-byte body arrives whole, with its byte length as content-length", async () => {
    const transport = new GraphQLHttp({ url, ...via, headers: { "x-answer": "echo" } });
    const variables = { text: "héllo — 你好 🌍".repeat(50) };
    const echoed = await transport.request<{ body: { variables: unknown }; lengthOk: boolean }>("{ ok }", variables);
    expect(echoed).toEqual({ body: { query: "{ ok }", variables }, lengthOk: true });
  });

  test("an answer slower than the idle-connection timeout still arrives", async () => {
    const slow = new GraphQLHttp({ url, ...via, timeoutMs: 10_000, headers: { "x-answer": "slow" } });
    expect(await slow.request<{ ok: boolean }>("{ ok }", {})).toEqual({ ok: true });
  });

  test("failures: nobody listening is network_error naming the socket's reason, 503 unavailable, a cut response network_error", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const nobody = new GraphQLHttp({ url: `http://127.0.0.1:${port}/graphql`, ...via });
    await expect(nobody.request("{ ok }", {})).rejects.toMatchObject({
      code: "network_error",
      message: expect.stringContaining("ECONNREFUSED"),
    });
    const busy = new GraphQLHttp({ url, ...via, headers: { "x-answer": "503" } });
    await expect(busy.request("{ ok }", {})).rejects.toMatchObject({ code: "unavailable", status: 503 });
    const cut = new GraphQLHttp({ url, ...via, headers: { "x-answer": "cut" } });
    await expect(cut.request("{ ok }", {})).rejects.toMatchObject({ code: "network_error" });
  });
});
