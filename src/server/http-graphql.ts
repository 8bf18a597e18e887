import type http from "node:http";
import { getOperationAST, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLError } from "graphql";
import type { AuthState } from "../auth/guard.ts";
import { syntaxErrors } from "../graphql/errors.ts";
import { MAX_REQUEST_BODY_BYTES } from "../shared/limits.ts";

/** The part of Yoga this handler uses: its envelop pipeline (parse/validate caches, error masking, context). */
interface Enveloped {
  schema: ExecutionArgs["schema"];
  parse: (source: string) => DocumentNode;
  validate: (schema: ExecutionArgs["schema"], document: DocumentNode) => readonly GraphQLError[];
  contextFactory: () => unknown;
  execute: (args: ExecutionArgs) => unknown;
}

const MAX_BODY_BYTES = MAX_REQUEST_BODY_BYTES;

/**
 * The hot path: `POST /graphql` with a JSON body is executed straight through Yoga's envelop pipeline (the
 * same parse/validation caches, plugins and error masking as every other request) without the Fetch-API
 * adapter layer, which cost more CPU per append than GraphQL execution itself. Everything else (GET,
 * GraphiQL, multipart, streamed responses) is left to Yoga.
 */
export function isJsonPost(req: http.IncomingMessage): boolean {
  if (req.method !== "POST") return false;
  if (!(req.headers["content-type"] ?? "").startsWith("application/json")) return false;
  const accept = req.headers.accept ?? "";
  return !accept.includes("text/event-stream") && !accept.includes("multipart/mixed");
}

function send(res: http.ServerResponse, status: number, body: ExecutionResult | { errors: unknown[] }): void {
  const json = JSON.stringify(body, (key, value: unknown) => (key === "http" && value && typeof value === "object" ? undefined : value));
  const headers: http.OutgoingHttpHeaders = { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(json) };
  // Same CORS answer as Yoga gives (it also answers the preflight): browsers call from other origins.
  const origin = res.req.headers.origin;
  if (origin) {
    headers["access-control-allow-origin"] = origin;
    headers["access-control-allow-credentials"] = "true";
    headers.vary = "Origin";
  }
  res.writeHead(status, headers);
  res.end(json);
}

const requestError = (message: string) => ({ errors: [{ message, extensions: { code: "bad_request" } }] });

function readBody(req: http.IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function serveJsonPost(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  getEnveloped: (initial: Record<string, unknown>) => Enveloped,
  auth: AuthState,
): Promise<void> {
  const body = await readBody(req);
  if (body === null) {
    send(res, 413, { errors: [{ message: `request body over ${MAX_BODY_BYTES} bytes`, extensions: { code: "payload_too_large" } }] });
    return;
  }
  let params: { query?: unknown; variables?: unknown; operationName?: unknown };
  try {
    params = JSON.parse(body) as typeof params;
  } catch {
    send(res, 400, requestError("the request body is not valid JSON"));
    return;
  }
  if (!params || typeof params !== "object" || Array.isArray(params) || typeof params.query !== "string") {
    send(res, 400, requestError("expected a JSON object with a string `query`"));
    return;
  }
  const variables = params.variables ?? undefined;
  if (variables !== undefined && variables !== null && (typeof variables !== "object" || Array.isArray(variables))) {
    send(res, 400, requestError("`variables` must be a JSON object"));
    return;
  }
  const operationName = typeof params.operationName === "string" ? params.operationName : undefined;

  const env = getEnveloped({ req, presetAuth: auth, params });
  let document: DocumentNode;
  try {
    document = env.parse(params.query);
  } catch (error) {
    send(res, 400, { errors: syntaxErrors(error).map((e) => e.toJSON()) });
    return;
  }
  const errors = env.validate(env.schema, document);
  if (errors.length > 0) {
    send(res, 400, { errors: errors.map((e) => e.toJSON()) });
    return;
  }
  const operation = getOperationAST(document, operationName);
  if (!operation) {
    send(res, 400, requestError("could not determine which operation to run: give operationName"));
    return;
  }
  if (operation.operation === "subscription") {
    send(res, 400, requestError("subscriptions run over WebSocket (graphql-ws) on this path"));
    return;
  }
  const result = (await env.execute({
    schema: env.schema,
    document,
    variableValues: (variables ?? undefined) as Record<string, unknown> | undefined,
    operationName,
    contextValue: await env.contextFactory(),
    rootValue: {},
  })) as ExecutionResult;
  send(res, result.data === undefined && result.errors ? 400 : 200, result);
}
