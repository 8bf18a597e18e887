import {
  createSourceEventStream,
  execute as executePayload,
  Kind,
  visit,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLError,
} from "graphql";

import { EncodedResult, graphqlWsPayload } from "./frames.ts";
import { DirectDelivery, type DrivableTail, type NextSink } from "./direct-delivery.ts";
import { compileTailEncoder, type EncodableBatch, type TailEncoder } from "./tail-encoder.ts";

type MaskError = (error: unknown, message: string) => Error;

interface SharedEntry {
  live: boolean;
  cursor: number;
  result: EncodedResult | Promise<EncodedResult>;
}

/**
 * Subscriptions for graphql-ws with shared per-batch results. A session's subscribers that are at the same
 * point receive the very same `events` array from the feed's ring (or the same catch-up page), so the result
 * for it is computed once per document and shared, instead of once per subscriber (fan-out to thousands of
 * tails was CPU-bound on exactly that) -- and shared already serialised: an EncodedResult, which the socket
 * writes without serialising it again (frames.ts). Plain `tail` selections skip graphql-js execution too: a
 * compiled encoder writes them (tail-encoder.ts), and their replay comes as frames serialised once (json-pages.ts).
 * Results are cached only when nothing in the document beyond the root field's arguments depends on
 * variables, and are keyed by the events array or page itself (so by session, through the feed).
 * Errors are masked the same way Yoga masks them.
 */
export function createSharedSubscribe(maskError: MaskError, counted: (how: "computed" | "shared") => void = () => {}) {
  const byContent = new WeakMap<object, Map<DocumentNode, Map<string, SharedEntry[]>>>();
  const shareable = new WeakMap<DocumentNode, boolean>();
  const encoders = new WeakMap<DocumentNode, Map<string, TailEncoder | null>>();

  const encoderOf = (document: DocumentNode, operationName: string | null | undefined): TailEncoder | null => {
    let byName = encoders.get(document);
    if (!byName) encoders.set(document, (byName = new Map()));
    const name = operationName ?? "";
    let encoder = byName.get(name);
    if (encoder === undefined) byName.set(name, (encoder = compileTailEncoder(document, operationName)));
    return encoder;
  };

  const mask = (errors: readonly GraphQLError[]) => errors.map((e) => maskError(e, "Unexpected error.") as GraphQLError);

  /**
   * One payload through graphql-js's own execute (Yoga's executor would start a new subscription for a
   * subscription document); errors are masked like everything else.
   */
  const execute = async (args: ExecutionArgs): Promise<ExecutionResult> => {
    const result = await executePayload(args);
    return result.errors ? { ...result, errors: mask(result.errors) } : result;
  };

  return async function subscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult | EncodedResult> | ExecutionResult> {
    const source = await createSourceEventStream({ ...args, rootValue: undefined });
    if (!isAsyncIterable(source)) {
      const result = source as ExecutionResult;
      return result.errors ? { ...result, errors: mask(result.errors) } : result;
    }
    let canShare = shareable.get(args.document);
    if (canShare === undefined) {
      canShare = onlyRootArgumentsUseVariables(args.document);
      shareable.set(args.document, canShare);
    }

    const encoder = canShare ? encoderOf(args.document, args.operationName) : null;
    const tail = source as { encodeCatchUp?: (projection: NonNullable<TailEncoder["projection"]>) => void };
    if (encoder?.projection && typeof tail.encodeCatchUp === "function") tail.encodeCatchUp(encoder.projection);

    const encode = (payload: unknown, batch: EncodableBatch): EncodedResult | Promise<EncodedResult> => {
      const json = encoder?.encode(batch);
      if (json !== undefined) return new EncodedResult(json);
      return execute({ ...args, rootValue: payload }).then(
        (result) => new EncodedResult(JSON.stringify(graphqlWsPayload(result as ExecutionResult & Record<string, unknown>))),
      );
    };

    /** The batch's payload, computed by the first subscriber at this point and shared with the rest. */
    const shared = (payload: unknown, batch: EncodableBatch): EncodedResult | Promise<EncodedResult> => {
      const content = batch.page ?? batch.events;
      let perDoc = byContent.get(content);
      if (!perDoc) byContent.set(content, (perDoc = new Map()));
      let perName = perDoc.get(args.document);
      if (!perName) perDoc.set(args.document, (perName = new Map()));
      const name = args.operationName ?? "";
      let entries = perName.get(name);
      if (!entries) perName.set(name, (entries = []));
      // A batch's content decides its cursor; live is the one thing two subscribers at the same point may differ in.
      for (const entry of entries) {
        if (entry.live === batch.live && entry.cursor === batch.cursor) {
          counted("shared");
          return entry.result;
        }
      }
      counted("computed");
      const result = encode(payload, batch);
      entries.push({ live: batch.live, cursor: batch.cursor, result });
      return result;
    };

    const run = (payload: unknown): Promise<ExecutionResult> | EncodedResult | Promise<EncodedResult> => {
      const batch = tailBatchOf(payload);
      if (canShare && batch) return shared(payload, batch);
      counted("computed");
      return execute({ ...args, rootValue: payload });
    };

    // A compiled tail on a transport that writes its own messages: the server drives it (direct-delivery.ts).
    const sink = (args.rootValue as { sink?: NextSink } | undefined)?.sink;
    if (encoder && sink && isDrivable(source)) {
      return new DirectDelivery(
        source,
        (batch) => shared(batch, batch),
        sink,
        (error) => maskError(error, "Unexpected error."),
      );
    }

    const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    const mapped: AsyncIterableIterator<ExecutionResult | EncodedResult> = {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next() {
        let step: IteratorResult<unknown>;
        try {
          step = await iterator.next();
        } catch (error) {
          throw maskError(error, "Unexpected error.");
        }
        if (step.done) return { done: true, value: undefined };
        return { done: false, value: await run(step.value) };
      },
      async return() {
        await iterator.return?.();
        return { done: true, value: undefined };
      },
      async throw(error?: unknown) {
        await iterator.return?.();
        throw error;
      },
    };
    return mapped;
  };
}

function isDrivable(source: unknown): source is DrivableTail {
  const s = source as Partial<DrivableTail>;
  return typeof s.poll === "function" && typeof s.park === "function" && typeof s.next === "function" && typeof s.return === "function";
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

/** A tail batch (its events array shared across subscribers by the feed, or its page by the page cache), if that is what this is. */
function tailBatchOf(payload: unknown): EncodableBatch | null {
  const p = payload as { events?: unknown; page?: { bytes?: unknown }; live?: unknown; cursor?: unknown } | null;
  if (!p || typeof p.live !== "boolean" || typeof p.cursor !== "number") return null;
  // A page batch's `events` must not be touched: it holds JSON, not rows.
  if (p.page && Buffer.isBuffer(p.page.bytes)) return p as EncodableBatch;
  return Array.isArray(p.events) ? (p as EncodableBatch) : null;
}

/** True when variables appear only in the root subscription field's arguments (which pick the stream, not the payload). */
function onlyRootArgumentsUseVariables(document: DocumentNode): boolean {
  let rootUses = 0;
  for (const def of document.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const selection of def.selectionSet.selections) {
      if (selection.kind !== Kind.FIELD) continue;
      for (const arg of selection.arguments ?? []) {
        visit(arg, { Variable: () => void rootUses++ });
      }
    }
  }
  let allUses = 0;
  visit(document, {
    VariableDefinition: () => false, // declarations ($x: Int = 1) are not uses; skip their subtree
    Variable: () => void allUses++,
  });
  return allUses === rootUses;
}
