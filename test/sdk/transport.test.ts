/**
 * The SDK's HTTP transport (src/sdk/transport.ts) against a real HTTP server that takes requests and holds them
 * unanswered: a request ends with `timeout` after its own deadline, with `closed` when the caller's signal aborts,
 * and leaves nothing attached to the caller's long-lived signal (a session's, shared by all its requests).
 */
import { getEventListeners } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { GraphQLHttp } from "../../src/sdk/transport.ts";

let server: http.Server;
let url: string;
/** Requests the server has received and not answered, oldest first. */
const held: http.ServerResponse[] = [];
let received = 0;
const waiters: (() => void)[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const body = JSON.stringify({ data: { ok: true } });
      if (req.headers["x-answer"] === "yes") {
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

test("a request nobody answers ends with timeout after the transport's deadline", async () => {
  const transport = new GraphQLHttp({ url, timeoutMs: 300 });
  const started = performance.now();
  await expect(transport.request("{ ok }", {})).rejects.toMatchObject({ code: "timeout" });
  expect(performance.now() - started).toBeGreaterThanOrEqual(290);
});

test("aborting the caller's signal ends the request in flight with closed", async () => {
  const transport = new GraphQLHttp({ url, timeoutMs: 30_000 });
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
  const answered = new GraphQLHttp({ url, timeoutMs: 30_000, headers: { "x-answer": "yes" } });
  const unanswered = new GraphQLHttp({ url, timeoutMs: 200 });
  const session = new AbortController();
  const results = await Promise.all(
    Array.from({ length: 50 }, () => answered.request<{ ok: boolean }>("{ ok }", {}, undefined, session.signal)),
  );
  expect(results.every((r) => r.ok)).toBe(true);
  await expect(unanswered.request("{ ok }", {}, undefined, session.signal)).rejects.toMatchObject({ code: "timeout" });
  expect(getEventListeners(session.signal, "abort")).toHaveLength(0);
});
