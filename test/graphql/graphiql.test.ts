import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ graphiql: true });
});
afterAll(async () => {
  await s.close();
});

test("GraphiQL is served self-contained (no asset from another host) and explains the Authorization header", async () => {
  const res = await fetch(`${s.url}/graphql`, { headers: { accept: "text/html" } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/html");
  const html = await res.text();
  // Offline machines and strict CSPs: every script and stylesheet is inline.
  expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=["']?(https?:)?\/\//i);
  expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdnjs/i);
  expect(html).toContain("starcite GraphiQL");
  expect(html).toContain("Authorization");
  expect(html).toContain("Bearer sk_...");
});

test("GraphiQL is off when the server is told so (production)", async () => {
  const prod = await startTestServer({ graphiql: false });
  try {
    const res = await fetch(`${prod.url}/graphql`, { headers: { accept: "text/html" } });
    expect((await res.text()).includes("GraphiQL")).toBe(false);
  } finally {
    await prod.close();
  }
});
