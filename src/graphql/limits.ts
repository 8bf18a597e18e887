import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  parse,
  type DocumentNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
} from "graphql";
import { DOCUMENT_LIMITS } from "../shared/limits.ts";

export type DocumentLimits = { -readonly [K in keyof typeof DOCUMENT_LIMITS]: number };

const limitError = (message: string, limit: string, max: number) =>
  new GraphQLError(message, { extensions: { code: "bad_request", limit, max } });

/**
 * Measures a document against the limits without recursion, expanding fragments, and stops at the first
 * limit it crosses: the work it does is bounded by the limits, not by the document. graphql-js's own
 * validation rules recurse over fragments, so a chain of thousands of fragments overflowed the stack there;
 * such a document is refused here first.
 */
export function documentLimitErrors(document: DocumentNode, limits: DocumentLimits = DOCUMENT_LIMITS): GraphQLError[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let aliases = 0;
  let directives = 0;
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  }
  // Aliases and directives are counted as written (a fragment's count once).
  const written: SelectionSetNode[] = [];
  for (const def of document.definitions) {
    if ("selectionSet" in def && def.selectionSet) written.push(def.selectionSet);
    if ("directives" in def) directives += def.directives?.length ?? 0;
  }
  while (written.length > 0) {
    for (const selection of written.pop()!.selections) {
      directives += selection.directives?.length ?? 0;
      if (selection.kind === Kind.FIELD && selection.alias) aliases++;
      if (selection.kind !== Kind.FRAGMENT_SPREAD && selection.selectionSet) written.push(selection.selectionSet);
    }
  }
  if (fragments.size > limits.fragments) {
    return [
      limitError(
        `the document defines ${fragments.size} fragments; at most ${limits.fragments} are allowed`,
        "fragments",
        limits.fragments,
      ),
    ];
  }
  if (aliases > limits.aliases)
    return [limitError(`the document has ${aliases} aliases; at most ${limits.aliases} are allowed`, "aliases", limits.aliases)];
  if (directives > limits.directives) {
    return [
      limitError(`the document has ${directives} directives; at most ${limits.directives} are allowed`, "directives", limits.directives),
    ];
  }

  // Depth and size with fragments expanded; every step (field, spread, inline fragment) counts toward the budget.
  let fields = 0;
  let steps = 0;
  const stack: [SelectionSetNode, number][] = [];
  for (const def of document.definitions) {
    if (def.kind === Kind.OPERATION_DEFINITION) stack.push([def.selectionSet, 1]);
  }
  while (stack.length > 0) {
    const [set, depth] = stack.pop()!;
    for (const selection of set.selections) {
      if (++steps > 2 * limits.fields) {
        return [limitError(`the document expands to more than ${limits.fields} fields`, "fields", limits.fields)];
      }
      if (selection.kind === Kind.FIELD) {
        if (++fields > limits.fields)
          return [limitError(`the document expands to more than ${limits.fields} fields`, "fields", limits.fields)];
        if (!selection.selectionSet) continue;
        if (depth + 1 > limits.depth) {
          return [limitError(`the document is nested deeper than ${limits.depth} levels`, "depth", limits.depth)];
        }
        stack.push([selection.selectionSet, depth + 1]);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        stack.push([selection.selectionSet, depth]);
      } else {
        const fragment = fragments.get(selection.name.value);
        // An unknown fragment is validation's to report.
        if (fragment) stack.push([fragment.selectionSet, depth]);
      }
    }
  }
  return [];
}

interface ValidateHook {
  params: { documentAST: DocumentNode };
  addValidationRule: (rule: typeof NoSchemaIntrospectionCustomRule) => void;
  setResult: (errors: readonly GraphQLError[]) => void;
}

/**
 * An envelop plugin: documents are parsed with a token limit and measured (depth, aliases, directives,
 * fields) before graphql-js validates them; introspection can be turned off. Errors are `bad_request` with
 * `limit` and `max` beside the code.
 */
export function useDocumentLimits(options: { introspection: boolean; limits?: DocumentLimits }) {
  const limits = options.limits ?? DOCUMENT_LIMITS;
  return {
    onParse({ setParseFn }: { setParseFn: (fn: (source: string) => DocumentNode) => void }) {
      setParseFn((source) => parse(source, { maxTokens: limits.tokens }));
    },
    onValidate({ params, addValidationRule, setResult }: ValidateHook) {
      const errors = documentLimitErrors(params.documentAST, limits);
      if (errors.length > 0) {
        setResult(errors);
        return;
      }
      if (!options.introspection) addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
