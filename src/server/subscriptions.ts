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

type MaskError = (error: unknown, message: string) => Error;

/**
 * Subscriptions for graphql-ws with shared per-batch execution. A session's subscribers that are at the same
 * point receive the very same `events` array from the feed's ring, so the GraphQL result for it is computed
 * once per document and shared, instead of once per subscriber (fan-out to thousands of tails was CPU-bound
 * on exactly that). Results are cached only when nothing in the document beyond the root field's arguments
 * depends on variables, and are keyed by the events array itself (so by session, through the feed).
 * Errors are masked the same way Yoga masks them.
 */
export function createSharedSubscribe(maskError: MaskError, counted: (how: "computed" | "shared") => void = () => {}) {
  const byEvents = new WeakMap<object, Map<DocumentNode, Map<string, Promise<ExecutionResult>>>>();
  const shareable = new WeakMap<DocumentNode, boolean>();

  const mask = (errors: readonly GraphQLError[]) => errors.map((e) => maskError(e, "Unexpected error.") as GraphQLError);

  /**
   * One payload through graphql-js's own execute (Yoga's executor would start a new subscription for a
   * subscription document); errors are masked like everything else.
   */
  const execute = async (args: ExecutionArgs): Promise<ExecutionResult> => {
    const result = await executePayload(args);
    return result.errors ? { ...result, errors: mask(result.errors) } : result;
  };

  return async function subscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
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

    const run = (payload: unknown): Promise<ExecutionResult> => {
      const events = sharedEventsOf(payload);
      if (!canShare || !events) {
        counted("computed");
        return execute({ ...args, rootValue: payload });
      }
      const { live, cursor } = payload as { live: boolean; cursor: number };
      let perDoc = byEvents.get(events);
      if (!perDoc) byEvents.set(events, (perDoc = new Map()));
      let perKey = perDoc.get(args.document);
      if (!perKey) perDoc.set(args.document, (perKey = new Map()));
      const key = `${live}:${cursor}:${args.operationName ?? ""}`;
      let result = perKey.get(key);
      if (!result) {
        counted("computed");
        result = execute({ ...args, rootValue: payload });
        perKey.set(key, result);
      } else {
        counted("shared");
      }
      return result;
    };

    const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    const mapped: AsyncIterableIterator<ExecutionResult> = {
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

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

/** The `events` array of a tail batch (shared across subscribers by the feed), if that is what this is. */
function sharedEventsOf(payload: unknown): object | null {
  const p = payload as { events?: unknown; live?: unknown; cursor?: unknown } | null;
  return p && Array.isArray(p.events) && typeof p.live === "boolean" && typeof p.cursor === "number" ? p.events : null;
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
