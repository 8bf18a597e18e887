/**
 * One input, one answer: an append is refused (or accepted) the same way whether an idle server sends it
 * through starcite.append's direct path or a busy one group-commits it through append_items' JSON engine.
 * Before the TypeScript checks, a lone surrogate in `actor` was stored as U+FFFD on the direct path and was
 * `internal_error` (Postgres 22P02) on the engine path.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { EVENT_LIMITS } from "../../src/shared/limits.ts";
import { captureLogs } from "../helpers/logs.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const APPEND = `mutation($sessionId: ID!, $event: AppendInput!) { append(sessionId: $sessionId, event: $event) { seq deduped } }`;
const logs = captureLogs();
let s: TestServer;

beforeAll(async () => {
  s = await startTestServer({ logger: logs.logger });
});
afterAll(async () => {
  await s?.close();
});

/** JSON text nested `levels` deep (serialised by hand: JSON.stringify itself overflows the stack on 5,000 levels). */
class Deep {
  constructor(readonly levels: number) {}
  toText(): string {
    return '{"v":'.repeat(this.levels - 1) + '{"leaf":1}' + "}".repeat(this.levels - 1);
  }
  toValue(): unknown {
    return JSON.parse(this.toText());
  }
}
const deep = (levels: number) => new Deep(levels);

/** The request body, with any Deep value spliced in as text. */
function body(sessionId: string, event: Record<string, unknown>): string {
  const holes: string[] = [];
  const text = JSON.stringify({ query: APPEND, variables: { sessionId, event } }, (_k, v: unknown) => {
    if (!(v instanceof Deep)) return v;
    holes.push(v.toText());
    return `@@deep${holes.length - 1}@@`;
  });
  return text.replace(/"@@deep(\d+)@@"/g, (_m, i: string) => holes[Number(i)]!);
}

/** Each hostile event and the code it must get, on every path. */
const CASES: [string, Record<string, unknown>, string][] = [
  ["lone surrogate in actor", { payload: {}, actor: "agent:\ud800" }, "invalid_event"],
  ["lone low surrogate in type", { payload: {}, type: "x\udc00" }, "invalid_event"],
  ["NUL in source", { payload: {}, source: "a\u0000b" }, "invalid_event"],
  ["lone surrogate in idempotencyKey", { payload: {}, idempotencyKey: "k\ud800" }, "invalid_event"],
  ["NUL in producerId", { payload: {}, producerId: "p\u0000", producerSeq: 1 }, "invalid_event"],
  ["lone surrogate in a payload value", { payload: { text: "\ud800" } }, "invalid_event"],
  ["NUL in a payload value", { payload: { text: "a\u0000" } }, "invalid_event"],
  ["lone surrogate in a payload key", { payload: { ["k\udbff"]: 1 } }, "invalid_event"],
  ["lone surrogate in metadata", { payload: {}, metadata: { m: "\udfff" } }, "invalid_event"],
  ["NUL in a metadata key", { payload: {}, metadata: { ["\u0000"]: 1 } }, "invalid_event"],
  ["lone surrogate in refs", { payload: {}, refs: ["\ud800"] }, "invalid_event"],
  ["payload nested 5,000 deep", { payload: deep(5000) }, "invalid_event"],
  [`payload nested ${EVENT_LIMITS.jsonDepth + 1} deep`, { payload: deep(EVENT_LIMITS.jsonDepth + 1) }, "invalid_event"],
  ["payload over 256 KiB", { payload: { text: "x".repeat(EVENT_LIMITS.payloadBytes) } }, "payload_too_large"],
  ["metadata over 16 KiB", { payload: {}, metadata: { m: "x".repeat(EVENT_LIMITS.metadataBytes) } }, "payload_too_large"],
  ["type of 129 characters", { payload: {}, type: "t".repeat(129) }, "invalid_event"],
  ["actor of 257 astral characters", { payload: {}, actor: "😀".repeat(257) }, "invalid_event"],
  ["payload an array", { payload: [1] }, "invalid_event"],
  ["empty type", { payload: {}, type: "" }, "invalid_event"],
  ["producerId without producerSeq", { payload: {}, producerId: "p" }, "invalid_event"],
];

/** Fine events near the limits: both paths accept them. */
const FINE: [string, Record<string, unknown>][] = [
  [
    "a surrogate pair (emoji) everywhere",
    { payload: { ["😀"]: "😀" }, actor: "agent:😀", type: "😀", source: "😀", metadata: { "😀": "😀" }, refs: ["😀"] },
  ],
  ["actor of 256 astral characters", { payload: {}, actor: "😀".repeat(256) }],
  [`payload nested ${EVENT_LIMITS.jsonDepth} deep`, { payload: deep(EVENT_LIMITS.jsonDepth) }],
];

async function code(sessionId: string, event: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${s.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: body(sessionId, event),
  });
  const r = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
  if (r.errors) return String(r.errors[0]!.extensions?.code);
  return "ok";
}

describe.each(CASES)("%s", (_name, event, expected) => {
  test(`is ${expected} alone (direct path) and under load (group commit)`, async () => {
    const sessionId = `ses_one_${Math.random().toString(36).slice(2)}`;
    await s.gql(`mutation($id: ID) { createSession(id: $id) { id } }`, { id: sessionId });
    expect(await code(sessionId, event)).toBe(expected);
    // 20 at once: the first goes alone, the rest are group-committed; odd ones are the hostile event.
    const codes = await Promise.all(Array.from({ length: 20 }, (_, i) => code(sessionId, i % 2 ? event : { payload: { i } })));
    expect(codes.filter((_, i) => i % 2 === 1)).toEqual(Array(10).fill(expected));
    expect(codes.filter((_, i) => i % 2 === 0)).toEqual(Array(10).fill("ok"));
  });
});

test.each(FINE)("%s is accepted on both paths, and read back as sent", async (_name, event) => {
  const sessionId = `ses_one_${Math.random().toString(36).slice(2)}`;
  await s.gql(`mutation($id: ID) { createSession(id: $id) { id } }`, { id: sessionId });
  expect(await code(sessionId, event)).toBe("ok");
  const codes = await Promise.all(Array.from({ length: 20 }, () => code(sessionId, event)));
  expect(codes).toEqual(Array(20).fill("ok"));
  const r = await s.gql(`query($id: ID!) { events(sessionId: $id, limit: 1) { events { actor type payload metadata refs } } }`, {
    id: sessionId,
  });
  const stored = r.data!.events.events[0];
  for (const key of ["actor", "type", "payload", "metadata", "refs"] as const) {
    const sent = event[key] instanceof Deep ? (event[key] as Deep).toValue() : event[key];
    if (key in event) expect(stored[key]).toEqual(sent);
  }
});

test("no client mistake above was logged as an unexpected error", () => {
  expect(logs.errors()).toEqual([]);
});
