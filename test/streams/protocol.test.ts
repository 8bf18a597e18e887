/**
 * The Durable Streams adapter beyond what the conformance suite checks: the same credentials as every other
 * surface (API keys, session tokens and their limits), hostile requests (always a 4xx with a code, never a 5xx),
 * offsets across a DELETE and a new PUT, the configurable long-poll, and shutdown.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apiKey, bearer, mintToken } from "../auth/helpers.ts";
import { startTestServer, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";

let s: TestServer;
let key: string;
let readOnly: string;

beforeAll(async () => {
  s = await startTestServer({ auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET }, streams: { longPollMs: 400 } });
  key = await apiKey(s.db.sql, "default");
  readOnly = await apiKey(s.db.sql, "default", ["session:read"]);
});

afterAll(async () => {
  await s?.close();
});

let n = 0;
const streamUrl = (name = `t${++n}-${Date.now()}`) => `${s.url}/v1/stream/proto/${name}`;

async function put(url: string, headers: Record<string, string> = {}, body?: string): Promise<Response> {
  return fetch(url, {
    method: "PUT",
    headers: { "content-type": "text/plain", ...bearer(key), ...headers },
    ...(body !== undefined ? { body } : {}),
  });
}

async function expectError(res: Response, status: number, code: string): Promise<void> {
  expect(res.status, await res.clone().text()).toBe(status);
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(await res.json()).toMatchObject({ error: code });
}

describe("credentials", () => {
  test("no or a wrong credential is 401; a key without the scope is 403; the same key works everywhere", async () => {
    const url = streamUrl();
    await expectError(await fetch(url, { method: "PUT" }), 401, "unauthorized");
    await expectError(await fetch(url, { method: "PUT", headers: bearer("sk_nope") }), 401, "unauthorized");
    await expectError(await fetch(url, { method: "PUT", headers: bearer(readOnly) }), 403, "forbidden_scope");
    expect((await put(url, {}, "x")).status).toBe(201);
    expect((await fetch(url, { headers: bearer(readOnly) })).status).toBe(200);
    await expectError(
      await fetch(url, { method: "POST", headers: { "content-type": "text/plain", ...bearer(readOnly) }, body: "y" }),
      403,
      "forbidden_scope",
    );
    await expectError(await fetch(url, { method: "DELETE", headers: bearer(readOnly) }), 403, "forbidden_scope");
  });

  test("a session token reaches only its stream, appends as its principal, and cannot create or delete", async () => {
    const url = streamUrl();
    const created = await put(url, {}, "hello");
    const sessionId = created.headers.get("starcite-session-id")!;
    const token = await mintToken(s, key, sessionId, { type: "user", id: "alice" });

    const read = await fetch(url, { headers: bearer(token) });
    expect(await read.text()).toBe("hello");
    const posted = await fetch(url, {
      method: "POST",
      headers: { "content-type": "text/plain", "starcite-actor": "user:bob", ...bearer(token) },
      body: "!",
    });
    await expectError(posted, 403, "forbidden_actor");
    expect((await fetch(url, { method: "POST", headers: { "content-type": "text/plain", ...bearer(token) }, body: "!" })).status).toBe(204);
    const [row] = await s.db.sql<{ actor: string }[]>`select actor from starcite.events where session_id = ${sessionId} and seq = 2`;
    expect(row!.actor).toBe("user:alice");

    await expectError(
      await fetch(url, { method: "PUT", headers: { "content-type": "text/plain", ...bearer(token) } }),
      403,
      "forbidden_scope",
    );
    await expectError(await fetch(url, { method: "DELETE", headers: bearer(token) }), 403, "forbidden_scope");
    const other = streamUrl();
    await put(other, {}, "other");
    await expectError(await fetch(other, { headers: bearer(token) }), 404, "session_not_found");
    await expectError(
      await fetch(other, { method: "POST", headers: { "content-type": "text/plain", ...bearer(token) }, body: "x" }),
      404,
      "session_not_found",
    );

    const sse = await fetch(`${url}?offset=-1&live=sse`, { headers: bearer(token), signal: AbortSignal.timeout(5000) });
    const reader = sse.body!.getReader();
    let text = "";
    while (!text.includes('"upToDate":true')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain("data:hello!");
    await reader.cancel();
  });

  test("an API key may name the actor of its appends (Starcite-Actor)", async () => {
    const url = streamUrl();
    const sessionId = (await put(url)).headers.get("starcite-session-id")!;
    await fetch(url, {
      method: "POST",
      headers: { "content-type": "text/plain", "starcite-actor": "agent:drafter", ...bearer(key) },
      body: "x",
    });
    const [row] = await s.db.sql<{ actor: string }[]>`select actor from starcite.events where session_id = ${sessionId}`;
    expect(row!.actor).toBe("agent:drafter");
  });

  test("another tenant's key sees nothing and cannot take the path", async () => {
    const url = streamUrl();
    await put(url, {}, "mine");
    const theirs = await apiKey(s.db.sql, "ds_other_tenant");
    await expectError(await fetch(url, { headers: bearer(theirs) }), 404, "session_not_found");
    await expectError(
      await fetch(url, { method: "PUT", headers: { "content-type": "text/plain", ...bearer(theirs) } }),
      409,
      "stream_conflict",
    );
  });
});

describe("offsets", () => {
  test("offsets of a deleted stream are 410 on its successor; past the tail 400; malformed 400", async () => {
    const url = streamUrl();
    const first = await put(url, {}, "one");
    const old = first.headers.get("stream-next-offset")!;
    expect(old).toMatch(/^\d{16}_\d{16}$/);
    expect((await fetch(url, { method: "DELETE", headers: bearer(key) })).status).toBe(204);
    const second = await put(url, {}, "two");
    expect(second.status).toBe(201);
    expect(second.headers.get("starcite-session-id")).toBe(`${first.headers.get("starcite-session-id")}__2`);
    await expectError(await fetch(`${url}?offset=${old}`, { headers: bearer(key) }), 410, "stream_gone");

    const tail = second.headers.get("stream-next-offset")!;
    const beyond = tail.replace(/\d{16}$/, (seq) => String(Number(seq) + 1).padStart(16, "0"));
    await expectError(await fetch(`${url}?offset=${beyond}`, { headers: bearer(key) }), 400, "invalid_argument");
    for (const bad of ["abc", "1", `${tail}x`, "now ", "-2"]) {
      await expectError(await fetch(`${url}?offset=${encodeURIComponent(bad)}`, { headers: bearer(key) }), 400, "invalid_argument");
    }
    await expectError(await fetch(`${url}?live=poll&offset=-1`, { headers: bearer(key) }), 400, "invalid_argument");
  });
});

describe("hostile requests", () => {
  test("malformed paths, headers and bodies are 4xx with a code", async () => {
    const url = streamUrl();
    await put(url);
    await expectError(await fetch(`${s.url}/v1/stream/bad%ZZ`, { headers: bearer(key) }), 400, "bad_request");
    // fetch would normalise "..": send the path as written.
    for (const raw of ["/v1/stream/a/../b", "/v1/stream/a/%2E%2E/b", "/v1/stream/./a", "/v1/stream/a//b"]) {
      const res = await rawPut(raw);
      expect(res.status, raw).toBe(400);
      expect(JSON.parse(res.body), raw).toMatchObject({ error: "invalid_argument" });
    }
    await expectError(await fetch(`${s.url}/v1/stream/a%00b`, { method: "PUT", headers: bearer(key) }), 400, "invalid_argument");
    await expectError(
      await fetch(`${s.url}/v1/stream/${"x".repeat(200)}`, { method: "PUT", headers: bearer(key) }),
      400,
      "invalid_argument",
    );
    await expectError(await put(streamUrl(), { "stream-ttl": "99999999999" }), 400, "invalid_argument");
    await expectError(await put(streamUrl(), { "stream-expires-at": "2026-13-45T99:00:00Z" }), 400, "invalid_argument");
    await expectError(await fetch(url, { method: "POST", headers: bearer(key), body: new Blob(["x"]) }), 400, "invalid_argument");
    await expectError(
      await fetch(url, {
        method: "POST",
        headers: { "content-type": "text/plain", "producer-id": "p", "producer-epoch": "0", "producer-seq": "1.5", ...bearer(key) },
        body: "x",
      }),
      400,
      "invalid_argument",
    );
    const patch = await fetch(url, { method: "PATCH", headers: bearer(key) });
    await expectError(patch, 405, "method_not_allowed");
    expect(patch.headers.get("allow")).toContain("PUT");

    const json = streamUrl();
    await put(json, { "content-type": "application/json" });
    for (const body of ["{", "[]", '"\\u0000"', "[1,]", '["\\ud800"]', "[".repeat(100_000) + "]".repeat(100_000)]) {
      const res = await fetch(json, { method: "POST", headers: { "content-type": "application/json", ...bearer(key) }, body });
      expect(res.status, body.slice(0, 40)).toBe(400);
    }
    // A message is stored as an event payload (a non-object one as {"value": ...}): as deep as one may be, no deeper.
    const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
    const deepest = await fetch(json, {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer(key) },
      body: `[${nested(63)}]`,
    });
    expect(deepest.status).toBe(204);
    await expectError(
      await fetch(json, { method: "POST", headers: { "content-type": "application/json", ...bearer(key) }, body: `[${nested(64)}]` }),
      400,
      "invalid_event",
    );
    const big = await fetch(json, {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer(key) },
      body: JSON.stringify({ pad: "x".repeat(300_000) }),
    });
    await expectError(big, 413, "payload_too_large");
  });

  test("a body over the limit is refused from its Content-Length, and while it streams in", async () => {
    const url = streamUrl();
    await put(url, { "content-type": "application/octet-stream" });
    const declared = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/octet-stream", ...bearer(key) },
      body: new Uint8Array(9 * 1024 * 1024),
    });
    await expectError(declared, 413, "payload_too_large");
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 9; i++) controller.enqueue(new Uint8Array(1024 * 1024));
        controller.close();
      },
    });
    const streamed = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/octet-stream", ...bearer(key) },
      body: chunks,
      duplex: "half",
    } as RequestInit);
    await expectError(streamed, 413, "payload_too_large");
  });

  test("random requests never get a 5xx", async () => {
    const url = streamUrl();
    await put(url, { "content-type": "application/json" }, "[1,2,3]");
    const methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"];
    const values = [
      "",
      "-1",
      "now",
      "true",
      "TRUE",
      "0",
      "00",
      "18446744073709551616",
      "\u00ff",
      "0000000000000000_0000000000000000",
      "9999999999999999_9999999999999999",
      "a,b",
      "../x",
      "application/json",
      "text/plain",
      "1e3",
    ];
    const headers = [
      "content-type",
      "stream-ttl",
      "stream-expires-at",
      "stream-closed",
      "stream-seq",
      "producer-id",
      "producer-epoch",
      "producer-seq",
      "stream-forked-from",
      "stream-fork-offset",
      "stream-fork-sub-offset",
      "if-none-match",
    ];
    const pick = <T>(xs: readonly T[], i: number) => xs[(i * 7919 + 13) % xs.length]!;
    for (let i = 0; i < 150; i++) {
      const h: Record<string, string> = { ...bearer(key) };
      for (let j = 0; j < (i % 4) + 1; j++) h[pick(headers, i * 3 + j)] = pick(values, i * 5 + j).replace(/[^\x20-\x7e]/g, "x");
      const method = pick(methods, i);
      const target = i % 3 === 0 ? `${url}?offset=${encodeURIComponent(pick(values, i))}&live=${pick(["long-poll", "sse", "x"], i)}` : url;
      const body = method === "POST" || method === "PUT" ? pick(["", "[1]", "{", "x", "[]"], i) : undefined;
      const res = await fetch(target, {
        method,
        headers: h,
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(5000),
      }).catch((error: unknown) => ({ status: 0, error }) as unknown as Response);
      expect(res.status, `${method} ${target} ${JSON.stringify(h)}`).toBeGreaterThan(0);
      expect(res.status, `${method} ${target} ${JSON.stringify(h)}`).toBeLessThan(500);
      await res.body?.cancel();
    }
  });
});

describe("live modes", () => {
  test("an idle long-poll ends after the configured timeout with 204", async () => {
    const url = streamUrl();
    const tail = (await put(url, {}, "x")).headers.get("stream-next-offset")!;
    const started = Date.now();
    const res = await fetch(`${url}?offset=${tail}&live=long-poll`, { headers: bearer(key) });
    const elapsed = Date.now() - started;
    expect(res.status).toBe(204);
    expect(res.headers.get("stream-next-offset")).toBe(tail);
    expect(res.headers.get("stream-cursor")).toMatch(/^\d+$/);
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(3000);
  });

  test("a long-poll wakes on an append through GraphQL too (the shared live feed)", async () => {
    const url = streamUrl();
    const created = await put(url, { "content-type": "application/json" });
    const sessionId = created.headers.get("starcite-session-id")!;
    const poll = fetch(`${url}?offset=now&live=long-poll`, { headers: bearer(key) });
    // Appends keep coming until the poll has one, whenever it began to wait.
    let done = false;
    const writer = (async () => {
      for (let i = 0; !done && i < 200; i++) {
        await s.gql(`mutation { append(sessionId: "${sessionId}", event: { payload: { i: ${i} } }) { seq } }`, {}, bearer(key));
      }
    })();
    const res = await poll;
    done = true;
    await writer;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { i: number }[];
    expect(body.length).toBeGreaterThan(0);
    expect(body[0]).toHaveProperty("i");
  });
});

describe("shutdown", () => {
  test("open long-polls answer 503 and SSE responses end when the server stops", async () => {
    const t = await startTestServer({ auth: { mode: "none", tokenSecret: TEST_TOKEN_SECRET }, streams: { longPollMs: 60_000 } });
    const url = `${t.url}/v1/stream/shutdown/x`;
    const tail = (await fetch(url, { method: "PUT", headers: { "content-type": "text/plain" }, body: "x" })).headers.get(
      "stream-next-offset",
    )!;
    const sse = await fetch(`${url}?offset=${tail}&live=sse`);
    const reader = sse.body!.getReader();
    let text = "";
    while (!text.includes("upToDate")) text += new TextDecoder().decode((await reader.read()).value);
    const poll = fetch(`${url}?offset=${tail}&live=long-poll`);
    await waitForLive(t, 2);
    await t.close();
    expect((await poll).status).toBe(503);
    for (;;) if ((await reader.read()).done) break;
  });
});

/** A PUT with the path exactly as given (no URL normalisation). */
function rawPut(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${s.url}${path}`,
      { method: "PUT", path, headers: { "content-type": "text/plain", ...bearer(key) } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** Waits until the server holds `count` open live responses (long-polls and SSE). */
async function waitForLive(t: TestServer, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (t.server.liveStreams() < count) {
    if (Date.now() > deadline) throw new Error("live responses did not open");
    await new Promise((r) => setTimeout(r, 10));
  }
}
