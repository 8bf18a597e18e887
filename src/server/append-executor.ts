import {
  getNullableType,
  getOperationAST,
  GraphQLBoolean,
  GraphQLInt,
  isInputObjectType,
  isNonNullType,
  isScalarType,
  Kind,
  locatedError,
  print,
  type DocumentNode,
  type ExecutionResult,
  type FieldNode,
  type GraphQLField,
  type GraphQLInputObjectType,
  type GraphQLSchema,
} from "graphql";
import { isGraphQLInt } from "../graphql/int.ts";

/**
 * Runs a plain `append` or `appendBatch` mutation without graphql-js execution. Appends are the server's most
 * frequent request, and graphql-js spends ~50 µs of CPU on each one outside the resolver (variable coercion,
 * argument values, the executor's bookkeeping); this does the same work for the one shape clients send:
 *
 *   mutation($sessionId: ID!, $event: AppendInput!) { append(sessionId: $sessionId, event: $event) { seq lastSeq deduped } }
 *
 * Only documents of that shape compile: one mutation field, its two arguments passed as variables declared with
 * the schema's own types, and plain scalar fields of AppendResult (aliases allowed; no fragments, directives or
 * repeated keys). At run time only variables that graphql-js would coerce to themselves take this path: strings
 * for ID and String, 32-bit integers for Int, any value but null for a required JSON, an object with known keys
 * for AppendInput (a list of them for appendBatch). Anything else returns null BEFORE the resolver runs, and the
 * caller executes the request as usual, so graphql-js writes every coercion error itself. The resolver is the
 * schema's own, so the rules behind an append (scopes, validation, the group commit) are the same object either
 * way; its errors, and result values GraphQL cannot carry (an Int past 32 bits), are located here the way the
 * executor Yoga runs (@graphql-tools/executor) locates them. The no-fast-paths test project and test/graphql/compiled-append.test.ts check that
 * both ways give the same answers.
 */
export type CompiledMutation = (context: unknown, variables: Record<string, unknown> | null | undefined) => Promise<ExecutionResult> | null;

const RESULT_FIELDS = new Set(["seq", "lastSeq", "deduped", "__typename"]);

interface Coercer {
  /** The input as graphql-js would coerce it, or undefined when graphql-js might answer anything else. */
  (value: unknown): Record<string, unknown> | undefined;
}

/** Fields of an input object whose types this module can coerce by hand: String, Int, ID and (identity) JSON. */
function inputCoercer(type: GraphQLInputObjectType): Coercer | null {
  const fields = Object.values(type.getFields()).map((f) => {
    const named = getNullableType(f.type);
    const kind = isScalarType(named) && ["String", "Int", "ID", "JSON"].includes(named.name) ? named.name : null;
    return { name: f.name, kind, required: isNonNullType(f.type), defaultValue: f.defaultValue };
  });
  if (fields.some((f) => f.kind === null)) return null;
  const known = new Set(fields.map((f) => f.name));
  return (value) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    const input = value as Record<string, unknown>;
    for (const key in input) if (!known.has(key)) return undefined;
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      const v = input[f.name];
      if (v === undefined) {
        if (f.defaultValue !== undefined) out[f.name] = f.defaultValue;
        else if (f.required) return undefined;
        continue;
      }
      if (v === null) {
        if (f.required) return undefined;
      } else if (f.kind === "String" || f.kind === "ID") {
        if (typeof v !== "string") return undefined;
      } else if (f.kind === "Int") {
        if (!isGraphQLInt(v)) return undefined;
      }
      out[f.name] = v;
    }
    return out;
  };
}

/** The selected AppendResult fields: response key and field name. */
function resultFields(field: FieldNode): { key: string; name: string; node: FieldNode }[] | null {
  if (!field.selectionSet) return null;
  const out: { key: string; name: string; node: FieldNode }[] = [];
  const keys = new Set<string>();
  for (const s of field.selectionSet.selections) {
    if (s.kind !== Kind.FIELD || (s.directives?.length ?? 0) > 0 || (s.arguments?.length ?? 0) > 0 || s.selectionSet) return null;
    if (!RESULT_FIELDS.has(s.name.value)) return null;
    const key = s.alias?.value ?? s.name.value;
    if (keys.has(key)) return null;
    keys.add(key);
    out.push({ key, name: s.name.value, node: s });
  }
  return out;
}

/** A compiled mutation for `document`, or null when it is not one this module handles. */
export function compileAppendMutation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName?: string | null,
): CompiledMutation | null {
  if (document.definitions.length !== 1) return null;
  const operation = getOperationAST(document, operationName ?? undefined);
  if (!operation || operation.operation !== "mutation" || (operation.directives?.length ?? 0) > 0) return null;
  const [root, ...more] = operation.selectionSet.selections;
  if (!root || more.length > 0 || root.kind !== Kind.FIELD || (root.directives?.length ?? 0) > 0) return null;
  const batch = root.name.value === "appendBatch";
  if (!batch && root.name.value !== "append") return null;
  const fieldDef = schema.getMutationType()?.getFields()[root.name.value] as GraphQLField<unknown, unknown> | undefined;
  const inputType = schema.getType("AppendInput");
  if (!fieldDef?.resolve || !isInputObjectType(inputType)) return null;
  const coerce = inputCoercer(inputType);
  const selected = resultFields(root);
  if (!coerce || !selected) return null;

  // Both arguments, as variables declared with exactly the argument's type and no default.
  const eventsArg = batch ? "events" : "event";
  const variableOf: Record<string, string> = {};
  if ((root.arguments?.length ?? 0) !== 2) return null;
  for (const arg of root.arguments!) {
    const def = fieldDef.args.find((a) => a.name === arg.name.value);
    if (!def || arg.value.kind !== Kind.VARIABLE) return null;
    const name = arg.value.name.value;
    const declared = operation.variableDefinitions?.find((v) => v.variable.name.value === name);
    if (!declared || declared.defaultValue || (declared.directives?.length ?? 0) > 0) return null;
    if (print(declared.type) !== String(def.type)) return null;
    variableOf[arg.name.value] = name;
  }
  const sessionVar = variableOf.sessionId;
  const eventsVar = variableOf[eventsArg];
  if (sessionVar === undefined || eventsVar === undefined) return null;

  const rootKey = root.alias?.value ?? root.name.value;
  const resolve = fieldDef.resolve;
  const located = (error: unknown, path: (string | number)[]): ExecutionResult => ({
    errors: [locatedError(error, [root], path)],
    data: null,
  });

  /** One AppendResult as graphql-js completes it, or the result of the error it would raise (every field is non-null). */
  type Completed = { ok: true; value: Record<string, unknown> } | { ok: false; result: ExecutionResult };
  const complete = (value: Record<string, unknown>, path: (string | number)[]): Completed => {
    const out: Record<string, unknown> = {};
    for (const f of selected) {
      try {
        out[f.key] =
          f.name === "__typename"
            ? "AppendResult"
            : f.name === "deduped"
              ? GraphQLBoolean.serialize(value[f.name])
              : GraphQLInt.serialize(value[f.name]);
      } catch (error) {
        // As the executor Yoga runs (@graphql-tools/executor) reports a value its type cannot serialise: as a
        // plain Error, which the error mask treats as the server's failure, not the request's.
        const raw = error instanceof Error ? new Error(error.message) : error;
        return { ok: false, result: { errors: [locatedError(raw, [f.node], [...path, f.key])], data: null } };
      }
    }
    return { ok: true, value: out };
  };

  return (context, variables) => {
    const sessionId = variables?.[sessionVar];
    if (typeof sessionId !== "string") return null;
    const raw = variables![eventsVar];
    let input: unknown;
    if (batch) {
      if (!Array.isArray(raw)) return null;
      const list: Record<string, unknown>[] = [];
      for (const item of raw) {
        const coerced = coerce(item);
        if (!coerced) return null;
        list.push(coerced);
      }
      input = list;
    } else {
      input = coerce(raw);
      if (!input) return null;
    }
    const args = { sessionId, [eventsArg]: input };
    let pending: unknown;
    try {
      // The info argument is not used by these resolvers (plain Pothos fields, no plugins).
      pending = resolve(undefined, args, context, undefined as never);
    } catch (error) {
      return Promise.resolve(located(error, [rootKey]));
    }
    return Promise.resolve(pending).then(
      (value): ExecutionResult => {
        if (!batch) {
          const done = complete(value as Record<string, unknown>, [rootKey]);
          return done.ok ? { data: { [rootKey]: done.value } } : done.result;
        }
        const items = value as Record<string, unknown>[];
        const out: Record<string, unknown>[] = [];
        for (let i = 0; i < items.length; i++) {
          const done = complete(items[i]!, [rootKey, i]);
          if (!done.ok) return done.result;
          out.push(done.value);
        }
        return { data: { [rootKey]: out } };
      },
      (error: unknown) => located(error, [rootKey]),
    );
  };
}
