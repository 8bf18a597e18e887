/**
 * The compiled tail encoder (src/server/tail-encoder.ts) must write, byte for byte, what graphql-js execution
 * followed by graphql-ws's JSON.stringify writes for the same batch: it replaces both on the fast path.
 */
import { execute, parse, type ExecutionResult } from "graphql";
import { describe, expect, test } from "vitest";
import type { StoredEvent } from "../../src/db/types.ts";
import { schema } from "../../src/graphql/schema/index.ts";
import { graphqlWsPayload } from "../../src/server/frames.ts";
import { compileTailEncoder } from "../../src/server/tail-encoder.ts";
import { EVENT_FIELDS } from "../../src/sdk/queries.ts";

const events: StoredEvent[] = [
  {
    sessionId: "ses_1",
    seq: 1,
    type: "content",
    payload: { text: 'héllo "quoted" \\ \n\t\u0001 😀 \u2028', n: 1.5, nested: { a: [1, null, true] } },
    actor: "agent:a",
    source: "tool",
    metadata: { m: 1 },
    refs: [1, "x"],
    idempotencyKey: "k1",
    producerId: "p",
    producerSeq: 7,
    insertedAt: "2026-01-01T00:00:00.000000Z",
  },
  {
    sessionId: "ses_1",
    seq: 2,
    type: "tool_call",
    payload: {},
    actor: null,
    source: null,
    metadata: null,
    refs: null,
    idempotencyKey: null,
    producerId: null,
    producerSeq: null,
    insertedAt: "2026-01-01T00:00:01.123456Z",
  },
];

async function viaGraphQL(query: string, batch: unknown, operationName?: string): Promise<string> {
  const variableValues = { s: "ses_1", c: 0, sessionId: "ses_1", cursor: 0 };
  const result = (await execute({ schema, document: parse(query), rootValue: batch, operationName, variableValues })) as ExecutionResult;
  return JSON.stringify(graphqlWsPayload(result as ExecutionResult & Record<string, unknown>));
}

const DOCUMENTS: Record<string, string> = {
  "the SDK's tail": `subscription Tail($sessionId: ID!, $cursor: Int) { tail(sessionId: $sessionId, cursor: $cursor) { cursor live events { ${EVENT_FIELDS} } } }`,
  "the bench's tail":
    "subscription Tail($s: ID!, $c: Int) { tail(sessionId: $s, cursor: $c) { events { seq sessionId type payload insertedAt } cursor live } }",
  "aliases and __typename": `subscription { t: tail(sessionId: "x") { __typename l: live e: events { __typename s: seq p: payload meta: metadata ps: producerSeq } c: cursor } }`,
  "no events": `subscription { tail(sessionId: "x") { live cursor } }`,
  "one event field": `subscription { tail(sessionId: "x") { events { refs } } }`,
};

describe("compiled tail encoder", () => {
  for (const [name, query] of Object.entries(DOCUMENTS)) {
    test(`${name}: same bytes as graphql-js + graphql-ws`, async () => {
      const encoder = compileTailEncoder(parse(query));
      expect(encoder).not.toBeNull();
      for (const batch of [
        { events, cursor: 2, live: false },
        { events: [], cursor: 2, live: true },
        { events: events.slice(1), cursor: 2, live: true },
      ]) {
        expect(encoder!.encode(batch)).toBe(await viaGraphQL(query, batch));
      }
    });
  }

  test("an event is written once per encoder, however many batches carry it", () => {
    const encoder = compileTailEncoder(parse(DOCUMENTS["the bench's tail"]!))!;
    const first = encoder.encode({ events, cursor: 2, live: true });
    const payload = events[0]!.payload as { text: string };
    const before = payload.text;
    payload.text = "changed after encoding";
    try {
      // Stored events never change; the cache relies on that.
      expect(encoder.encode({ events: [events[0]!], cursor: 1, live: true })).toContain(JSON.stringify(before));
      expect(first).toContain(JSON.stringify(before));
    } finally {
      payload.text = before;
    }
  });

  test("an Int graphql-js would refuse leaves the batch to graphql-js (its error, not a number out of range)", async () => {
    const query = DOCUMENTS["the bench's tail"]!;
    const encoder = compileTailEncoder(parse(query))!;
    const big = { ...events[1]!, seq: 2 ** 31 };
    expect(encoder.encode({ events: [big], cursor: 2 ** 31, live: true })).toBeUndefined();
    expect(encoder.encode({ events: [], cursor: 2 ** 31, live: true })).toBeUndefined();
    expect(await viaGraphQL(query, { events: [big], cursor: 2 ** 31, live: true })).toContain("errors");
  });

  test("a catch-up frame's bytes are written around, never turned into a string", () => {
    const encoder = compileTailEncoder(parse(DOCUMENTS["the bench's tail"]!))!;
    expect(encoder.projection).toEqual({
      fields: ["seq", "session_id", "type", "payload", "inserted_at"],
      keys: ["seq", "sessionId", "type", "payload", "insertedAt"],
      id: expect.any(String),
    });
    const page = { bytes: Buffer.from('[{"seq":5}]'), count: 1, lastSeq: 5 };
    expect(encoder.encode({ events: [], page, cursor: 5, live: false })).toEqual({
      before: '{"data":{"tail":{"events":',
      frame: page.bytes,
      after: ',"cursor":5,"live":false}}}',
    });
  });

  test("__typename among event fields has no database projection (rows are encoded instead)", () => {
    expect(compileTailEncoder(parse(DOCUMENTS["aliases and __typename"]!))!.projection).toBeNull();
    expect(compileTailEncoder(parse(DOCUMENTS["no events"]!))!.projection).toBeNull();
  });

  test.each([
    ["a fragment", `subscription { tail(sessionId: "x") { ...F } } fragment F on TailBatch { cursor }`],
    ["an inline fragment", `subscription { tail(sessionId: "x") { ... on TailBatch { cursor } } }`],
    ["a directive", `subscription($a: Boolean!) { tail(sessionId: "x") { cursor @include(if: $a) } }`],
    ["a directive on an event field", `subscription { tail(sessionId: "x") { events { seq @skip(if: false) } } }`],
    ["a repeated key", `subscription { tail(sessionId: "x") { cursor cursor } }`],
    ["a query", `query { __typename }`],
  ])("%s: not compiled (executed as usual)", (_name, query) => {
    expect(compileTailEncoder(parse(query))).toBeNull();
  });
});
