import type http from "node:http";
import { getOperationAST, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLError } from "graphql";
import type { AuthState } from "../auth/guard.ts";
import { syntaxErrors } from "../graphql/errors.ts";

/** The part of Yoga this handler uses: its envelop pipeline (parse/validate caches, error masking, context). */
interface Enveloped {
  schema: ExecutionArgs["schema"];
  parse: (source: string) => DocumentNode;
  validate: (schema: ExecutionArgs["schema"], document: DocumentNode) => readonly GraphQLError[];
  contextFactory: () => unknown;
  execute: (args: ExecutionArgs) => unknown;
}

export interface GraphQLParams {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string;
}

/**
 * The hot path: `POST /graphql` with a JSON body is executed straight through Yoga's envelop pipeline (the
 * same parse/validation caches, plugins and error masking as every other request) without the Fetch-API
 * adapter layer, which cost more CPU per append than GraphQL execution itself. Everything else (GET,
 * GraphiQL, streamed responses) is left to Yoga.
 */
export function wantsStream(req: http.IncomingMessage): boolean {
  const accept = req.headers.accept ?? "";
  return accept.includes("text/event-stream") || accept.includes("multipart/mixed");
}

/** A GraphQL-over-HTTP JSON body: one operation (batching is not supported), or why not. */
export function parseGraphQLParams(body: string): GraphQLParams | { error: string } {
  let params: unknown;
  try {
    params = JSON.parse(body);
  } catch {
    return { error: "the request body is not valid JSON" };
  }
  if (Array.isArray(params)) return { error: "batching is not supported: send one operation per request" };
  const p = params as { query?: unknown; variables?: unknown; operationName?: unknown } | null;
  if (!p || typeof p !== "object" || typeof p.query !== "string") return { error: "expected a JSON object with a string `query`" };
  const variables = p.variables ?? undefined;
  if (variables !== undefined && variables !== null && (typeof variables !== "object" || Array.isArray(variables))) {
    return { error: "`variables` must be a JSON object" };
  }
  if (p.operationName != null && typeof p.operationName !== "string") return { error: "`operationName` must be a string" };
  return {
    query: p.query,
    ...(variables ? { variables: variables as Record<string, unknown> } : {}),
    ...(typeof p.operationName === "string" ? { operationName: p.operationName } : {}),
  };
}

function send(res: http.ServerResponse, status: number, body: ExecutionResult | { errors: unknown[] }): void {
  const json = JSON.stringify(body, (key, value: unknown) => (key === "http" && value && typeof value === "object" ? undefined : value));
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(json) });
  res.end(json);
}

const requestError = (message: string) => ({ errors: [{ message, extensions: { code: "bad_request" } }] });

export async function serveJsonPost(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  getEnveloped: (initial: Record<string, unknown>) => Enveloped,
  auth: AuthState,
  params: GraphQLParams,
  validate: (env: Enveloped, document: DocumentNode) => readonly GraphQLError[],
  execute: (args: ExecutionArgs, fallback: (args: ExecutionArgs) => unknown) => unknown,
): Promise<void> {
  const env = getEnveloped({ req, presetAuth: auth, params });
  let document: DocumentNode;
  try {
    document = env.parse(params.query);
  } catch (error) {
    send(res, 400, { errors: syntaxErrors(error).map((e) => e.toJSON()) });
    return;
  }
  const errors = validate(env, document);
  if (errors.length > 0) {
    send(res, 400, { errors: errors.map((e) => e.toJSON()) });
    return;
  }
  const operation = getOperationAST(document, params.operationName);
  if (!operation) {
    send(res, 400, requestError("could not determine which operation to run: give operationName"));
    return;
  }
  if (operation.operation === "subscription") {
    send(res, 400, requestError("subscriptions run over WebSocket (graphql-ws) on this path"));
    return;
  }
  const result = (await execute(
    {
      schema: env.schema,
      document,
      variableValues: params.variables ?? undefined,
      operationName: params.operationName,
      contextValue: await env.contextFactory(),
      rootValue: {},
    },
    env.execute,
  )) as ExecutionResult;
  if (res.destroyed) return;
  send(res, result.data === undefined && result.errors ? 400 : 200, result);
}
