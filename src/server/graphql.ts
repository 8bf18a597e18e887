import type { DocumentNode, ExecutionArgs, ExecutionResult, GraphQLError, GraphQLSchema } from "graphql";
import { createYoga, type YogaServerInstance } from "graphql-yoga";
import type { AuthState } from "../auth/guard.ts";
import type { Context } from "../graphql/context.ts";
import { createMaskError, useBadRequestCode } from "../graphql/errors.ts";
import { useDocumentLimits } from "../graphql/limits.ts";
import { schema } from "../graphql/schema/index.ts";
import { compileAppendMutation, type CompiledMutation } from "./append-executor.ts";
import { graphiqlOptions, renderGraphiQL } from "./graphiql.ts";
import { createSharedSubscribe } from "./subscriptions.ts";
import type http from "node:http";

/** What the transports hand to Yoga when they build a request's context. */
export interface ServerContext {
  req: http.IncomingMessage;
  res?: http.ServerResponse;
  /** Authentication done before Yoga runs: once per connection for graphql-ws, per request on the JSON fast path. */
  presetAuth?: AuthState;
}

export interface GraphQLEngine {
  yoga: YogaServerInstance<ServerContext, Context>;
  /** Subscriptions with one result per tail batch shared by subscribers at the same point (the fast path). */
  sharedSubscribe: ReturnType<typeof createSharedSubscribe>;
  /**
   * `env.validate` (the envelop pipeline's: graphql-js's rules, the document limits, bad_request codes), once per
   * parsed document. Its result depends on the schema and the document only, and Yoga's parse cache hands out
   * the same document object for the same query text, so every later request skips the pipeline's validation
   * hooks (Yoga's own cache builds a key from the rules' names on every request).
   */
  validate(env: Validating, document: DocumentNode): readonly GraphQLError[];
  /**
   * Executes a validated operation: a plain append/appendBatch mutation compiled (append-executor.ts), its
   * errors masked as Yoga masks them; anything else, or variables the compiled form does not take, by
   * `fallback` (the envelop pipeline's execute).
   */
  execute(args: ExecutionArgs, fallback: (args: ExecutionArgs) => unknown): unknown;
}

/** The part of an enveloped request `GraphQLEngine.validate` uses. */
export interface Validating {
  schema: GraphQLSchema;
  validate: (schema: GraphQLSchema, document: DocumentNode) => readonly GraphQLError[];
}

/**
 * Yoga over the Pothos schema, with the error mask that gives every error an `extensions.code`. One context
 * factory serves HTTP and WebSocket alike; `context` supplies the per-process parts.
 */
export function createGraphQLEngine(options: {
  context: (auth: AuthState) => Context;
  authenticate: (authorizationHeader: string | null) => Promise<AuthState>;
  logger: Context["logger"];
  graphiql: boolean;
  /** Schema introspection (`__schema`, `__type`); off in production by default. */
  introspection: boolean;
  countTailResult: (how: "computed" | "shared") => void;
}): GraphQLEngine {
  const maskError = createMaskError(options.logger);
  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    graphiql: options.graphiql ? graphiqlOptions : false,
    renderGraphiQL,
    landingPage: false,
    logging: false,
    maskedErrors: { maskError },
    // Yoga's CORS is off: src/server/guards.ts answers CORS for every route, by configuration.
    cors: false,
    plugins: [useDocumentLimits({ introspection: options.introspection }), useBadRequestCode()],
    context: async (initial) =>
      options.context(initial.presetAuth ?? (await options.authenticate(initial.request.headers.get("authorization")))),
  });
  const validated = new WeakMap<DocumentNode, readonly GraphQLError[]>();
  // Per parsed document (Yoga's parse cache hands out one object per query text), per operation name.
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledMutation | null>>();
  const compiledFor = (args: ExecutionArgs): CompiledMutation | null => {
    let byName = compiled.get(args.document);
    if (!byName) compiled.set(args.document, (byName = new Map()));
    const name = args.operationName ?? "";
    let c = byName.get(name);
    if (c === undefined) byName.set(name, (c = compileAppendMutation(args.schema, args.document, args.operationName)));
    return c;
  };
  const masked = (result: ExecutionResult): ExecutionResult =>
    result.errors ? { ...result, errors: result.errors.map((e) => maskError(e, "Unexpected error.") as GraphQLError) } : result;
  return {
    yoga,
    sharedSubscribe: createSharedSubscribe(maskError, options.countTailResult),
    validate(env, document) {
      let errors = validated.get(document);
      if (!errors) validated.set(document, (errors = env.validate(env.schema, document)));
      return errors;
    },
    execute(args, fallback) {
      const run = compiledFor(args)?.(args.contextValue, args.variableValues as Record<string, unknown> | null | undefined);
      return run ? run.then(masked) : fallback(args);
    },
  };
}
