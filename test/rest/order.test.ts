/**
 * REST and GraphQL writers on one session, REST (WebSocket, SSE, pages) and GraphQL (subscription, query)
 * readers: everyone sees one identical order, each event once.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { collectTail, startTestServer, type TestServer } from "../helpers/server.ts";
import { sid } from "../sql/_support.ts";
import { call, sseTail, wsTail } from "./support.ts";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.close();
});

test("concurrent REST and GraphQL producers; five kinds of readers agree on every event's seq", async () => {
  const id = sid("order");
  expect((await call(s.url, "POST", "/v1/sessions", { id })).status).toBe(201);
  const ws = wsTail(`${s.url.replace(/^http/, "ws")}/v1/sessions/${id}/tail?batch_size=7`);
  const sse = sseTail(`${s.url}/v1/sessions/${id}/tail`);
  const gql = collectTail(s.wsClient(), id, 0);
  await ws.until(() => ws.caughtUp);
  await sse.until(() => sse.messages.some((m) => m.event === "caught_up"));
  await gql.until(() => gql.batches.some((b) => b.live));

  const perWriter = 60;
  const writer = async (name: string, send: (i: number) => Promise<number>) => {
    const seqs: number[] = [];
    for (let i = 1; i <= perWriter; i++) seqs.push(await send(i));
    return { name, seqs };
  };
  const restWriter = (name: string) =>
    writer(name, async (i) => {
      const res = await call(s.url, "POST", `/v1/sessions/${id}/append`, { payload: { w: name, i }, producer_id: name, producer_seq: i });
      expect(res.status).toBe(201);
      return res.body.seq as number;
    });
  const gqlWriter = (name: string) =>
    writer(name, async (i) => {
      const res = await s.gql<{ append: { seq: number } }>(
        `mutation($id: ID!, $e: AppendInput!) { append(sessionId: $id, event: $e) { seq } }`,
        { id, e: { payload: { w: name, i }, producerId: name, producerSeq: i } },
      );
      expect(res.errors).toBeUndefined();
      return res.data!.append.seq;
    });
  const batchWriter = (name: string) =>
    writer(name, async (i) => {
      const res = await call(s.url, "POST", `/v1/sessions/${id}/append_batch`, { events: [{ payload: { w: name, i } }] });
      return res.body.results[0].seq as number;
    });
  const writers = await Promise.all([
    restWriter("rest-a"),
    restWriter("rest-b"),
    gqlWriter("gql-a"),
    gqlWriter("gql-b"),
    batchWriter("batch"),
  ]);
  const total = perWriter * writers.length;

  // Each writer's acknowledgements are increasing: its events are in the log in the order it sent them.
  for (const w of writers) expect(w.seqs, w.name).toEqual([...w.seqs].sort((a, b) => a - b));
  const acknowledged = new Map(writers.flatMap((w) => w.seqs.map((seq, k) => [seq, `${w.name}:${k + 1}`] as const)));
  expect(acknowledged.size).toBe(total);

  await ws.until(() => ws.events.length === total, 30_000);
  await sse.until(() => sse.events.length === total, 30_000);
  await gql.until(() => gql.events.length === total, 30_000);
  const pages: { seq: number; payload: { w: string; i: number } }[] = [];
  for (let cursor = 0; pages.length < total;) {
    const page = await call(s.url, "GET", `/v1/sessions/${id}/events?cursor=${cursor}&limit=37`);
    pages.push(...page.body.events);
    cursor = page.body.next_cursor;
  }
  const gqlPage = await s.gql<{ events: { events: { seq: number; payload: { w: string; i: number } }[] } }>(
    `{ events(sessionId: "${id}", limit: 1000) { events { seq payload } } }`,
  );

  const order = (events: readonly { seq: number; payload: Record<string, unknown> }[]) =>
    events.map((e) => `${e.seq}=${e.payload.w}:${e.payload.i}`);
  const truth = order(pages);
  expect(truth).toEqual(Array.from({ length: total }, (_, k) => `${k + 1}=${acknowledged.get(k + 1)}`));
  expect(order(ws.events)).toEqual(truth);
  expect(order(sse.events)).toEqual(truth);
  expect(order(gql.events)).toEqual(truth);
  expect(order(gqlPage.data!.events.events)).toEqual(truth);
  ws.close();
  sse.close();
  gql.unsubscribe();
});
