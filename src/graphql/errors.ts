import { GraphQLError } from "graphql";
import { StarciteError, toStarciteError, unavailableCause } from "../db/errors.ts";
import type { Logger } from "../shared/logger.ts";

/**
 * graphql may be loaded twice (ESM for us, CJS inside Yoga), so `instanceof GraphQLError` is unreliable:
 * recognise GraphQL errors by name.
 */
function asGraphQLError(error: unknown): GraphQLError | undefined {
  return error instanceof Error && error.name === "GraphQLError" ? (error as GraphQLError) : undefined;
}

/** `extensions` of a starcite error: `code` plus the SQL layer's detail fields (camelCased). */
function extensionsOf(error: StarciteError): Record<string, unknown> {
  const ext: Record<string, unknown> = { code: error.code };
  for (const [key, value] of Object.entries(error.detail)) {
    ext[key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())] = value;
  }
  return ext;
}

export function toGraphQLError(error: StarciteError, from?: GraphQLError): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: from?.nodes,
    source: from?.source,
    positions: from?.positions,
    path: from?.path,
    extensions: extensionsOf(error),
  });
}

/**
 * Yoga's error mask: starcite errors go out with `extensions.code` (stable, documented); GraphQL's own
 * errors (syntax, validation, bad variables) get `bad_request`; anything unexpected is logged and
 * masked as `internal_error`, so no internals (or secrets) reach the client.
 */
export function createMaskError(logger: Logger) {
  return (error: unknown, message: string): Error => {
    const gqlError = asGraphQLError(error);
    const original = gqlError?.originalError ?? error;
    const mapped = toStarciteError(original);
    if (mapped instanceof StarciteError) {
      const cause = unavailableCause(mapped);
      logger.info("request error", {
        code: mapped.code,
        message: mapped.message,
        path: gqlError?.path?.join("."),
        ...(cause ? { cause } : {}),
      });
      return toGraphQLError(mapped, gqlError);
    }
    if (gqlError && (!gqlError.originalError || asGraphQLError(gqlError.originalError))) {
      // GraphQL's own errors: syntax, validation, variable coercion.
      const raw = gqlError.extensions?.code;
      const code = typeof raw === "string" && !/^[A-Z_]+$/.test(raw) ? raw : "bad_request";
      logger.info("request error", { code, message: gqlError.message });
      return new GraphQLError(gqlError.message, {
        nodes: gqlError.nodes,
        source: gqlError.source,
        positions: gqlError.positions,
        path: gqlError.path,
        extensions: { ...gqlError.extensions, code },
      });
    }
    logger.error("unexpected error", { error: original instanceof Error ? (original.stack ?? original.message) : String(original) });
    return new GraphQLError(message || "Unexpected error.", {
      path: gqlError?.path,
      extensions: { code: "internal_error" },
    });
  };
}

function withCode(error: unknown, code: string): unknown {
  const g = asGraphQLError(error);
  if (!g) return error;
  return new GraphQLError(g.message, {
    nodes: g.nodes,
    source: g.source,
    positions: g.positions,
    path: g.path,
    extensions: { ...g.extensions, code },
  });
}

/** Documents that fail to parse or validate are the client's mistake: `bad_request`, on HTTP and WebSocket alike. */
export function useBadRequestCode(): {
  onValidate: () => (payload: { result: readonly unknown[]; setResult: (errors: unknown[]) => void }) => void;
} {
  return {
    onValidate:
      () =>
      ({ result, setResult }) => {
        if (result.length > 0) setResult(result.map((e) => withCode(e, "bad_request")));
      },
  };
}

/** A syntax error in a graphql-ws subscribe message, as the operation's error list. */
export function syntaxErrors(error: unknown): GraphQLError[] {
  const g = asGraphQLError(error);
  return [
    new GraphQLError(g?.message ?? "invalid GraphQL document", {
      nodes: g?.nodes,
      source: g?.source,
      positions: g?.positions,
      extensions: { code: "bad_request" },
    }),
  ];
}
