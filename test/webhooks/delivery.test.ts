/**
 * Webhook deliveries against a real receiver on a real port: exactly once per event and per session change
 * while it answers 2xx, at least once (never lost) while it fails, times out or is down, always in order per
 * session, signed with a timestamped HMAC that verifyWebhook accepts, with the status queryable over GraphQL.
 */
import { verifyWebhook, WebhookHeader, type WebhookBody } from "@starcite/sdk";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { waitUntil } from "../sql/_support.ts";
import { WebhookReceiver } from "../helpers/receiver.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer({
    workers: { webhooks: { intervalMs: 100, retryBaseMs: 30, retryMaxMs: 300, timeoutMs: 400, maxItems: 20 } },
  });
});

afterAll(async () => {
  await s?.close();
});

async function ok<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<T> {
  const res = await s.gql<T>(query, variables);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!;
}

async function createEndpoint(url: string, extra: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
  const data = await ok(
    `mutation($url: String!, $sessionIds: [ID!], $types: [String!], $lifecycle: Boolean) {
    createWebhookEndpoint(url: $url, sessionIds: $sessionIds, types: $types, lifecycle: $lifecycle) { secret endpoint { id url enabled } } }`,
    { url, ...extra },
  );
  return { id: data.createWebhookEndpoint.endpoint.id, secret: data.createWebhookEndpoint.secret };
}

async function appendMany(sessionId: string, n: number, type = "content"): Promise<void> {
  for (let i = 0; i < n; i += 7) {
    const events = Array.from({ length: Math.min(7, n - i) }, (_, k) => ({ type, payload: { i: i + k } }));
    await ok(`mutation($id: ID!, $events: [AppendInput!]!) { appendBatch(sessionId: $id, events: $events) { seq } }`, {
      id: sessionId,
      events,
    });
  }
}

/** Every request the receiver got, verified; throws on a bad signature. */
async function verified(receiver: WebhookReceiver, secret: string): Promise<WebhookBody[]> {
  return Promise.all(receiver.received.map((r) => verifyWebhook(secret, r.body, r.headers[WebhookHeader.Signature] as string)));
}

function eventKeys(bodies: WebhookBody[]): string[] {
  return bodies.flatMap((b) => (b.type === "events" ? b.events.map((e) => `${e.session_id}#${e.seq}`) : []));
}

describe("a healthy receiver", () => {
  const receiver = new WebhookReceiver();
  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());

  test("gets every event and session change exactly once, in order per session, signed", async () => {
    const { id, secret } = await createEndpoint(receiver.url);
    const sessions = ["wh_a", "wh_b", "wh_c"];
    for (const sid of sessions) await ok(`mutation($id: ID) { createSession(id: $id) { id } }`, { id: sid });
    await Promise.all(sessions.map((sid, k) => appendMany(sid, 30 + k * 11)));
    await ok(`mutation { updateSession(id: "wh_a", title: "renamed") { version } }`);
    const expected = sessions.flatMap((sid, k) => Array.from({ length: 30 + k * 11 }, (_, i) => `${sid}#${i + 1}`));

    const changesOf = (bodies: WebhookBody[]) => bodies.flatMap((b) => (b.type === "session_changes" ? b.changes : []));
    await receiver.until(
      () =>
        eventKeys(receiver.received.map((r) => JSON.parse(r.body) as WebhookBody)).length >= expected.length &&
        changesOf(receiver.received.map((r) => JSON.parse(r.body) as WebhookBody)).length >= 4,
      30_000,
      "all events and changes",
    );
    // Quiescent: nothing pending, so nothing more is on its way.
    await waitUntil(
      "no pending deliveries",
      async () =>
        (await ok(`query($id: ID!) { webhookDeliveries(endpointId: $id, status: pending) { id } }`, { id })).webhookDeliveries.length === 0,
    );

    const bodies = await verified(receiver, secret);
    const keys = eventKeys(bodies);
    expect([...keys].sort()).toEqual([...expected].sort());
    expect(new Set(keys).size).toBe(keys.length);
    for (const sid of sessions) {
      const order = keys.filter((k) => k.startsWith(`${sid}#`)).map((k) => Number(k.split("#")[1]));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
    expect(changesOf(bodies).map((c) => [c.session_id, c.kind])).toEqual([
      ["wh_a", "created"],
      ["wh_b", "created"],
      ["wh_c", "created"],
      ["wh_a", "updated"],
    ]);
    const ids = receiver.received.map((r) => r.headers[WebhookHeader.Delivery]);
    expect(new Set(ids).size).toBe(ids.length);
    const listed = (
      await ok(`query($id: ID!) { webhookDeliveries(endpointId: $id, limit: 1000) { id status attempts lastStatus } }`, { id })
    ).webhookDeliveries;
    expect(listed).toHaveLength(receiver.received.length);
    expect(
      listed.every(
        (d: { status: string; attempts: number; lastStatus: number }) =>
          d.status === "succeeded" && d.attempts === 1 && d.lastStatus === 200,
      ),
    ).toBe(true);
    await ok(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`, { id });
  });

  test("a tampered body, a wrong secret or an old timestamp fails verification", async () => {
    const r = receiver.received[0]!;
    const header = r.headers[WebhookHeader.Signature] as string;
    const { secret } = { secret: "whsec_wrong" };
    await expect(verifyWebhook(secret, r.body, header)).rejects.toMatchObject({ code: "unauthorized" });
    const t = Number(/t=(\d+)/.exec(header)![1]);
    await expect(verifyWebhook("x", r.body, header, { now: (t + 3600) * 1000 })).rejects.toThrow(/too old/);
    await expect(verifyWebhook("x", r.body, "v1=abc")).rejects.toThrow(/malformed/);
  });

  test("filters: only the listed sessions and event types", async () => {
    const start = receiver.received.length;
    const { id, secret } = await createEndpoint(receiver.url, { sessionIds: ["wh_f1"], types: ["keep"], lifecycle: false });
    for (const sid of ["wh_f1", "wh_f2"]) await ok(`mutation($id: ID) { createSession(id: $id) { id } }`, { id: sid });
    await appendMany("wh_f1", 5, "drop");
    await appendMany("wh_f1", 3, "keep");
    await appendMany("wh_f2", 4, "keep");
    await receiver.until(
      () => receiver.received.length > start && eventKeys(receiver.received.slice(start).map((r) => JSON.parse(r.body))).length >= 3,
    );
    await waitUntil(
      "no pending deliveries",
      async () =>
        (await ok(`query($id: ID!) { webhookDeliveries(endpointId: $id, status: pending) { id } }`, { id })).webhookDeliveries.length === 0,
    );
    const bodies = await Promise.all(
      receiver.received.slice(start).map((r) => verifyWebhook(secret, r.body, r.headers[WebhookHeader.Signature] as string)),
    );
    expect(eventKeys(bodies)).toEqual(["wh_f1#6", "wh_f1#7", "wh_f1#8"]);
    await ok(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`, { id });
  });
});

describe("a receiver that fails, times out and restarts", () => {
  const receiver = new WebhookReceiver();
  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());

  test("loses nothing: every event arrives at least once, in order per session, after retries with backoff", async () => {
    const { id, secret } = await createEndpoint(receiver.url, { lifecycle: false });
    for (const sid of ["wr_a", "wr_b"]) await ok(`mutation($id: ID) { createSession(id: $id) { id } }`, { id: sid });

    receiver.mode = "fail";
    await appendMany("wr_a", 25);
    await receiver.until(() => receiver.received.filter((r) => r.answered === "fail").length >= 3, 30_000, "three failed attempts");
    const pending = (
      await ok(
        `query($id: ID!) { webhookDeliveries(endpointId: $id, status: pending) { id attempts lastStatus lastError nextAttemptAt } }`,
        { id },
      )
    ).webhookDeliveries;
    expect(pending.length).toBeGreaterThan(0);
    expect(pending[0]).toMatchObject({ lastStatus: 500, lastError: "HTTP 500" });
    expect(pending[0].attempts).toBeGreaterThanOrEqual(1);

    receiver.mode = "hang";
    await appendMany("wr_b", 15);
    await receiver.until(() => receiver.received.filter((r) => r.answered === "hang").length >= 2, 30_000, "two timed-out attempts");

    await receiver.stop();
    await appendMany("wr_a", 10);
    await waitUntil("an attempt refused while the receiver is down", async () =>
      (
        await ok(`query($id: ID!) { webhookDeliveries(endpointId: $id, status: pending) { lastError lastStatus } }`, { id })
      ).webhookDeliveries.some(
        (d: { lastError: string | null; lastStatus: number | null }) =>
          d.lastStatus === null && d.lastError && !/no answer/.test(d.lastError),
      ),
    );

    receiver.mode = "ok";
    await receiver.start();
    const want = [...Array.from({ length: 35 }, (_, i) => `wr_a#${i + 1}`), ...Array.from({ length: 15 }, (_, i) => `wr_b#${i + 1}`)];
    const okKeys = () => new Set(eventKeys(receiver.received.filter((r) => r.answered === "ok").map((r) => JSON.parse(r.body))));
    await receiver.until(() => want.every((k) => okKeys().has(k)), 30_000, "every event acknowledged");

    const bodies = await verified(receiver, secret);
    const keys = eventKeys(bodies);
    expect(new Set(keys)).toEqual(new Set(want));
    for (const sid of ["wr_a", "wr_b"]) {
      // In order per session: the first time each seq arrives, it follows the one before it.
      const firsts: number[] = [];
      for (const k of keys.filter((x) => x.startsWith(`${sid}#`))) {
        const seq = Number(k.split("#")[1]);
        if (!firsts.includes(seq)) firsts.push(seq);
      }
      expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
    }
    // A retry is the same delivery (same id, same events) again.
    const byId = new Map<string, Set<string>>();
    for (const r of receiver.received) {
      const key = JSON.stringify(eventKeys([JSON.parse(r.body)]));
      byId.set(r.headers[WebhookHeader.Delivery] as string, (byId.get(r.headers[WebhookHeader.Delivery] as string) ?? new Set()).add(key));
    }
    expect([...byId.values()].every((contents) => contents.size === 1)).toBe(true);
    const attempts = receiver.received.map((r) => Number(r.headers[WebhookHeader.Attempt]));
    expect(Math.max(...attempts)).toBeGreaterThan(1);
  });
});
