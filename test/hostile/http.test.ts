/**
 * Hostile HTTP: every client mistake is a 4xx with a JSON body and a code, never a 5xx or a stack trace, and
 * every resource has a limit that answers in a way the client can read.
 */
import net from "node:net";
import { getIntrospectionQuery } from "graphql";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DOCUMENT_LIMITS } from "../../src/shared/limits.ts";
import { apiKey, bearer } from "../auth/helpers.ts";
import { captureLogs } from "../helpers/logs.ts";
import { startTestServer, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";

const logs = captureLogs("debug");
let s: TestServer;
let guarded: TestServer;

beforeAll(async () => {
  s = await startTestServer({ logger: logs.logger, limits: { bodyBytes: 1024 * 1024 } });
  guarded = await startTestServer({
    auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET, failureLimit: { failures: 5, windowMs: 60_000 } },
    cors: ["https://app.example.test"],
    introspection: false,
  });
});
afterAll(async () => {
  await s?.close();
  await guarded?.close();
});

/** One raw HTTP/1.1 exchange; resolves with everything the server sent before closing or `idleMs` of silence. */
function raw(url: string, request: string, idleMs = 1500): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), "127.0.0.1");
    let out = "";
    let timer: NodeJS.Timeout;
    const done = () => {
      socket.destroy();
      resolve(out);
    };
    socket.on("data", (d) => {
      out += d.toString("latin1");
      clearTimeout(timer);
      timer = setTimeout(done, idleMs);
    });
    socket.on("end", done);
    socket.on("error", (e) => (out ? done() : reject(e)));
    socket.write(request);
  });
}

const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
const bodyOf = (response: string) => response.slice(response.indexOf("\r\n\r\n") + 4);

async function post(server: TestServer, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    json: text ? (JSON.parse(text) as { errors?: { message: string; extensions?: Record<string, unknown> }[]; data?: unknown }) : undefined,
  };
}
const codeOf = (r: Awaited<ReturnType<typeof post>>) => r.json?.errors?.[0]?.extensions?.code;

describe("request targets and hosts", () => {
  test("an absolute-form request line is served as its path (RFC 9112), not a 500 with a stack trace", async () => {
    const body = JSON.stringify({ query: "{ sessions(limit: 1) { id } }" });
    const res = await raw(
      s.url,
      `POST http://other.host/graphql HTTP/1.1\r\nHost: other.host\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
    );
    expect(statusOf(res)).toBe(200);
    expect(JSON.parse(bodyOf(res))).toEqual({ data: { sessions: [] } });
  });

  test("an absolute-form GET goes to Yoga as its path; a target that is neither is 400 with a code", async () => {
    const get = await raw(s.url, `GET http://x/graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: x\r\nconnection: close\r\n\r\n`);
    expect(statusOf(get)).toBe(200);
    expect(JSON.parse(bodyOf(get))).toEqual({ data: { __typename: "Query" } });
    const star = await raw(s.url, `OPTIONS * HTTP/1.1\r\nHost: x\r\nconnection: close\r\n\r\n`);
    expect(statusOf(star)).toBe(400);
    expect(JSON.parse(bodyOf(star)).errors[0].extensions.code).toBe("bad_request");
  });

  test("a nonsense Host header cannot reach Yoga's URL parsing", async () => {
    const res = await raw(s.url, `GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: a b:c:d\r\nconnection: close\r\n\r\n`);
    expect(statusOf(res)).toBe(200);
    expect(res).not.toMatch(/at .*\.(js|ts):\d+/);
  });

  test("unknown paths and methods: 404 / 405 with codes", async () => {
    const nf = await fetch(`${s.url}/nope`);
    expect(nf.status).toBe(404);
    // Paths outside /graphql answer in REST's shape, pointing at /graphql and the REST docs.
    const body = await nf.json();
    expect(body.error).toBe("route_not_found");
    expect(body.message).toContain("/graphql");
    const put = await fetch(`${s.url}/graphql`, { method: "PUT", body: "{}" });
    expect(put.status).toBe(405);
    expect((await put.json()).errors[0].extensions.code).toBe("method_not_allowed");
  });
});

describe("bodies", () => {
  test.each([
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/graphql",
    "",
    "application/jsonx",
  ])("POST with content-type %j is 415 with a code", async (type) => {
    const res = await fetch(`${s.url}/graphql`, {
      method: "POST",
      headers: type ? { "content-type": type } : {},
      body: '{"query":"{ __typename }"}',
    });
    expect(res.status).toBe(415);
    expect((await res.json()).errors[0].extensions.code).toBe("unsupported_media_type");
  });

  test("a batch (JSON array) is 400 with a code: one operation per request", async () => {
    const r = await post(s, JSON.stringify([{ query: "{ __typename }" }, { query: "{ __typename }" }]));
    expect(r.status).toBe(400);
    expect(codeOf(r)).toBe("bad_request");
    expect(r.json!.errors![0]!.message).toMatch(/batching/);
  });

  test("a body declared as 100 MB is answered 413 before it is read, and the client reads the answer", async () => {
    const res = await raw(
      s.url,
      `POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100000000\r\n\r\n{"query":`,
    );
    expect(statusOf(res)).toBe(413);
    expect(JSON.parse(bodyOf(res)).errors[0].extensions).toMatchObject({ code: "payload_too_large", limit: 1024 * 1024 });
  });

  test("a chunked body that grows past the limit is 413, and fetch (still uploading) gets the answer", async () => {
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 4 * 1024 * 1024) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(`${s.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect((await res.json()).errors[0].extensions.code).toBe("payload_too_large");
  });

  test("Expect: 100-continue with an oversized length gets 413 instead of 100 Continue", async () => {
    const res = await raw(
      s.url,
      `POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 50000000\r\nexpect: 100-continue\r\n\r\n`,
    );
    expect(statusOf(res)).toBe(413);
    expect(res).not.toMatch(/100 Continue/);
  });

  test("a client that hangs up mid-body is logged at debug, not as an unexpected error", async () => {
    const before = logs.lines.length;
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect(Number(new URL(s.url).port), "127.0.0.1", () => {
        socket.write(
          `POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n{"query": "`,
          () => {
            socket.end();
            resolve();
          },
        );
      });
      socket.on("error", reject);
    });
    // The server sees the hang-up; wait for its debug line (a real signal, not a sleep).
    const deadline = Date.now() + 5000;
    while (!logs.lines.slice(before).some((l) => l.msg === "client went away while sending") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(logs.lines.slice(before).some((l) => l.msg === "client went away while sending")).toBe(true);
    expect(logs.errors()).toEqual([]);
  });
});

describe("documents", () => {
  test("a chain of 5,000 nested fragments is bad_request (token limit), not a stack overflow", async () => {
    const n = 5000;
    const fragments = Array.from(
      { length: n },
      (_, i) => `fragment F${i} on Query { ${i === n - 1 ? "__typename" : `...F${i + 1}`} }`,
    ).join("\n");
    const r = await post(s, JSON.stringify({ query: `query { ...F0 }\n${fragments}` }));
    expect(r.status).toBe(400);
    expect(codeOf(r)).toBe("bad_request");
  });

  test("a fragment chain under the token limit but past the depth or size budget is bad_request", async () => {
    const n = 400;
    const fragments =
      Array.from({ length: n }, (_, i) => `fragment F${i} on Query { viewer { id } ...F${i + 1} }`).join("\n") +
      `\nfragment F${n} on Query { __typename }`;
    const r = await post(s, JSON.stringify({ query: `query { ...F0 }\n${fragments}` }));
    expect(r.status).toBe(400);
    expect(codeOf(r)).toBe("bad_request");
  });

  test("a fragment cycle is refused without looping", async () => {
    const r = await post(s, JSON.stringify({ query: "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }" }));
    expect(r.status).toBe(400);
    expect(codeOf(r)).toBe("bad_request");
  });

  test("1,000 aliased introspection selections (370 KB asking for 21 MB) are refused before any work", async () => {
    const query = `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: __schema { types { name fields { name } } }`).join(" ")} }`;
    const r = await post(s, JSON.stringify({ query }));
    expect(r.status).toBe(400);
    expect(codeOf(r)).toBe("bad_request");
    expect(r.text.length).toBeLessThan(1000);
  });

  test(`more than ${DOCUMENT_LIMITS.aliases} aliases (within the token limit) are refused by the alias limit`, async () => {
    const query = `{ ${Array.from({ length: DOCUMENT_LIMITS.aliases + 1 }, (_, i) => `a${i}: __typename`).join(" ")} }`;
    const r = await post(s, JSON.stringify({ query }));
    expect(r.status).toBe(400);
    expect(r.json!.errors![0]!.extensions).toMatchObject({ code: "bad_request", limit: "aliases", max: DOCUMENT_LIMITS.aliases });
    const fine = `{ ${Array.from({ length: DOCUMENT_LIMITS.aliases }, (_, i) => `a${i}: __typename`).join(" ")} }`;
    expect((await post(s, JSON.stringify({ query: fine }))).status).toBe(200);
  });

  test("depth past the limit is bad_request with the limit", async () => {
    let sel = "name";
    for (let i = 0; i < DOCUMENT_LIMITS.depth + 2; i++) sel = `ofType { ${sel} }`;
    const r = await post(s, JSON.stringify({ query: `{ __type(name: "Query") { ${sel} } }` }));
    expect(r.status).toBe(400);
    expect(r.json!.errors![0]!.extensions).toMatchObject({ code: "bad_request", limit: "depth" });
  });

  test("GraphiQL's own introspection query fits the limits (development)", async () => {
    const r = await post(s, JSON.stringify({ query: getIntrospectionQuery() }));
    expect(r.status, r.text.slice(0, 300)).toBe(200);
  });

  test("introspection can be turned off (the production default): bad_request, also unauthenticated", async () => {
    const key = await apiKey(guarded.db.sql, "default");
    for (const headers of [{}, bearer(key)]) {
      const r = await post(guarded, JSON.stringify({ query: "{ __schema { types { name } } }" }), headers);
      expect(r.status).toBe(400);
      expect(codeOf(r)).toBe("bad_request");
    }
    // __typename is not introspection.
    expect((await post(guarded, JSON.stringify({ query: "{ __typename }" }), bearer(key))).json).toEqual({ data: { __typename: "Query" } });
  });
});

describe("CORS by configuration", () => {
  test("a listed origin is echoed (never with credentials); others get no CORS headers", async () => {
    const ok = await fetch(`${guarded.url}/graphql`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example.test",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example.test");
    expect(ok.headers.get("access-control-allow-headers")).toMatch(/authorization/);
    expect(ok.headers.get("access-control-allow-credentials")).toBeNull();
    expect(ok.headers.get("vary")).toMatch(/Origin/);

    const evil = await fetch(`${guarded.url}/graphql`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    const post2 = await post(guarded, JSON.stringify({ query: "{ __typename }" }), { origin: "https://evil.example" });
    expect(post2.headers.get("access-control-allow-origin")).toBeNull();
    expect(post2.headers.get("access-control-allow-credentials")).toBeNull();
  });

  test("Durable Streams under the same origins: the protocol's methods and headers in preflights, its headers exposed", async () => {
    const url = `${guarded.url}/v1/stream/cors/${Date.now()}`;
    const ok = await fetch(url, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example.test",
        "access-control-request-method": "PUT",
        "access-control-request-headers": "producer-id, if-none-match",
      },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example.test");
    expect(ok.headers.get("access-control-allow-methods")).toMatch(/PUT/);
    expect(ok.headers.get("access-control-allow-headers")).toMatch(/producer-id/);
    expect(ok.headers.get("access-control-allow-headers")).toMatch(/if-none-match/);
    expect(ok.headers.get("access-control-allow-credentials")).toBeNull();

    const key = await apiKey(guarded.db.sql, "default");
    const created = await fetch(url, {
      method: "PUT",
      headers: { origin: "https://app.example.test", "content-type": "text/plain", ...bearer(key) },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("access-control-allow-origin")).toBe("https://app.example.test");
    expect(created.headers.get("access-control-expose-headers")).toMatch(/Stream-Next-Offset/);
    expect(created.headers.get("access-control-allow-credentials")).toBeNull();

    const evil = await fetch(url, { method: "HEAD", headers: { origin: "https://evil.example", ...bearer(key) } });
    expect(evil.status).toBe(200);
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    expect(evil.headers.get("x-content-type-options")).toBe("nosniff");
  });

  test("production's default is same-origin only", async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = "production";
    const prod = await startTestServer({}, s.db);
    process.env.NODE_ENV = previous;
    try {
      const r = await post(prod, JSON.stringify({ query: "{ sessions(limit: 1) { id } }" }), { origin: "https://anything.example" });
      expect(r.status).toBe(200);
      expect(r.headers.get("access-control-allow-origin")).toBeNull();
      // ... and introspection is off there by default.
      expect(codeOf(await post(prod, JSON.stringify({ query: "{ __schema { queryType { name } } }" })))).toBe("bad_request");
    } finally {
      await prod.close();
    }
  });
});

describe("failed authentications", () => {
  test("are limited per client address: 429 with Retry-After, even for a valid key, until the window frees", async () => {
    const key = await apiKey(guarded.db.sql, "default");
    const q = JSON.stringify({ query: "{ viewer { id } }" });
    const wrong = await Promise.all(Array.from({ length: 5 }, (_, i) => post(guarded, q, bearer(`sk_wrong_${i}_000000000000000000000`))));
    expect(wrong.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(wrong.map(codeOf)).toEqual(Array(5).fill("unauthorized"));
    const limited = await post(guarded, q, bearer("sk_wrong_again_00000000000000000000"));
    expect(limited.status).toBe(429);
    expect(codeOf(limited)).toBe("too_many_requests");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // While limited, credentials are not checked at all, so guessing learns nothing.
    expect((await post(guarded, q, bearer(key))).status).toBe(429);
    // Requests without a credential are not guesses and are not limited.
    expect(codeOf(await post(guarded, q))).toBe("unauthorized");
    // Durable Streams requests are the same guesses.
    const stream = await fetch(`${guarded.url}/v1/stream/limited`, { method: "HEAD", headers: bearer(key) });
    expect(stream.status).toBe(429);
    expect(Number(stream.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

test("nothing above was logged as an unexpected error", () => {
  expect(logs.errors()).toEqual([]);
});
