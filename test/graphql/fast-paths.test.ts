/**
 * The fast paths' precondition. Tail results are computed once per batch and shared by every subscriber at
 * the same point (src/server/subscriptions.ts), and JSON POSTs skip Yoga's Fetch adapter; both are correct
 * only while no field under TailBatch depends on who is asking. This walks every field reachable from
 * TailBatch, runs its resolver against a context that records any access, and fails if one looks.
 */
import {
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  getNamedType,
  isObjectType,
  type GraphQLFieldResolver,
  type GraphQLResolveInfo,
} from "graphql";
import { describe, expect, test } from "vitest";
import type { StoredEvent } from "../../src/db/types.ts";
import { schema } from "../../src/graphql/schema/index.ts";

const event: StoredEvent = {
  sessionId: "ses_1",
  seq: 1,
  type: "content",
  payload: { text: "hi" },
  actor: "agent:a",
  source: null,
  metadata: { m: 1 },
  refs: [1],
  idempotencyKey: null,
  producerId: "p",
  producerSeq: 1,
  insertedAt: "2026-01-01T00:00:00.000000Z",
};

/** One value of each object type that can appear under TailBatch. A new type there must be added here. */
const SAMPLES: Record<string, unknown> = {
  TailBatch: { events: [event], cursor: 1, live: false },
  Event: event,
};

/** Every "Type.field" under `root` whose resolver reads the context, with what it read. */
async function contextReaders(s: GraphQLSchema, root: string, samples: Record<string, unknown>): Promise<string[]> {
  const readers: string[] = [];
  const seen = new Set<string>();
  const queue = [root];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const type = s.getType(name);
    if (!isObjectType(type)) continue;
    expect(samples, `no sample value for ${name}, which is reachable from ${root}`).toHaveProperty(name);
    for (const field of Object.values(type.getFields())) {
      const named = getNamedType(field.type);
      if (isObjectType(named)) queue.push(named.name);
      const resolve = field.resolve as GraphQLFieldResolver<unknown, unknown> | undefined;
      if (!resolve) continue;
      const context = new Proxy(
        {},
        {
          get: (_t, key) => {
            readers.push(`${name}.${field.name} reads context.${String(key)}`);
            return undefined;
          },
          has: (_t, key) => {
            readers.push(`${name}.${field.name} checks context.${String(key)}`);
            return false;
          },
        },
      );
      const info = {
        fieldName: field.name,
        parentType: type,
        returnType: field.type,
        schema: s,
        path: { prev: undefined, key: field.name },
      } as unknown as GraphQLResolveInfo;
      await resolve(samples[name], {}, context, info);
    }
  }
  return readers;
}

describe("fields under TailBatch", () => {
  test("none reads the request context, so one result per batch can be shared by every subscriber", async () => {
    expect(await contextReaders(schema, "TailBatch", SAMPLES)).toEqual([]);
  });

  test("the walk does catch a resolver that reads the context", async () => {
    const Leaky = new GraphQLObjectType({
      name: "Leaky",
      fields: { who: { type: GraphQLString, resolve: (_p, _a, ctx: { auth?: unknown }) => String(ctx.auth) } },
    });
    const Root = new GraphQLObjectType({ name: "Root", fields: { leaky: { type: Leaky, resolve: () => ({}) } } });
    const probe = new GraphQLSchema({ query: Root });
    expect(await contextReaders(probe, "Root", { Root: {}, Leaky: {} })).toEqual(["Leaky.who reads context.auth"]);
  });
});
