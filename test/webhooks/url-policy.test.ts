/**
 * One URL policy for every webhook the server calls: webhook endpoints are checked like Durable Streams
 * subscriptions (https to a public host; http only to localhost outside production), with webhook_url_rejected.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let dev: TestServer;
let production: TestServer;

beforeAll(async () => {
  dev = await startTestServer();
  production = await startTestServer({ streams: { allowLocalHttpWebhooks: false } }, dev.db);
});

afterAll(async () => {
  await production?.close();
  await dev?.close();
});

const CREATE = `mutation($url: String!) { createWebhookEndpoint(url: $url) { endpoint { id url } } }`;
const UPDATE = `mutation($id: ID!, $url: String) { updateWebhookEndpoint(id: $id, url: $url) { id url } }`;

async function create(s: TestServer, url: string) {
  const res = await s.gql<{ createWebhookEndpoint: { endpoint: { id: string; url: string } } }>(CREATE, { url });
  return { id: res.data?.createWebhookEndpoint.endpoint.id, error: res.errors?.[0]?.extensions as Record<string, unknown> | undefined };
}

test.each([
  ["https://10.1.2.3/hook", "a private IPv4 address"],
  ["https://169.254.169.254/latest/meta-data", "the cloud metadata address"],
  ["https://[::1]/hook", "IPv6 loopback"],
  ["https://[fd00::1]/hook", "an IPv6 unique-local address"],
  ["https://localhost/hook", "localhost over https"],
  ["http://hooks.example.com/x", "plain http to a public host"],
  ["ftp://hooks.example.com/x", "another scheme"],
  ["https://user:secret@hooks.example.com/x", "credentials in the URL"],
])("%s (%s) is webhook_url_rejected, on create and on update", async (url) => {
  const created = await create(dev, url);
  expect(created.error).toMatchObject({ code: "webhook_url_rejected", field: "url" });
  const good = await create(dev, "https://hooks.example.com/ok");
  expect(good.error).toBeUndefined();
  const updated = await dev.gql(UPDATE, { id: good.id, url });
  expect(updated.errors?.[0]?.extensions).toMatchObject({ code: "webhook_url_rejected", field: "url" });
});

test("http to localhost is for development: accepted outside production, rejected in production", async () => {
  expect((await create(dev, "http://127.0.0.1:9/hook")).error).toBeUndefined();
  expect((await create(dev, "http://localhost:9/hook")).error).toBeUndefined();
  expect((await create(production, "http://127.0.0.1:9/hook")).error).toMatchObject({ code: "webhook_url_rejected" });
  expect((await create(production, "https://hooks.example.com/hook")).error).toBeUndefined();
});
