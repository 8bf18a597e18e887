import type http from "node:http";
import type { Duplex } from "node:stream";
import { bearer } from "../auth/authenticator.ts";
import { clientAddress } from "../auth/limiter.ts";
import { requirePrincipal } from "../auth/guard.ts";
import { StarciteError } from "../db/errors.ts";
import { HTTP_LIMITS } from "../shared/limits.ts";
import { drain, readJson } from "./body.ts";
import type { RestDeps } from "./deps.ts";
import { asStarciteError, errorBody, HTTP_STATUS, sendError, sendJson } from "./errors.ts";
import { declaredErrors, Router, type Match } from "./router.ts";
import { ROUTES } from "./routes.ts";
import { tailCredential } from "./tail-request.ts";
import { serveWsTail } from "./ws-tail.ts";

export type { RestDeps } from "./deps.ts";
export { TailStreams } from "./streams.ts";

export const router = new Router(ROUTES);

const GRAPHQL_PATH = "/graphql";
export const DOCS_HINT = {
  graphql: GRAPHQL_PATH,
  openapi: "/v1/openapi.json",
  docs: "https://github.com/starcite/starcite/blob/main/docs/rest.md",
};

function routeNotFound(method: string, path: string): StarciteError {
  return new StarciteError(
    "route_not_found",
    `no route ${method} ${path}. The primary API is GraphQL at ${GRAPHQL_PATH} (POST JSON, or a graphql-transport-ws WebSocket); ` +
      `the REST API is described at ${DOCS_HINT.openapi} and in docs/rest.md`,
    DOCS_HINT,
  );
}

function pathOf(req: http.IncomingMessage): { path: string; query: URLSearchParams } {
  const url = new URL(req.url ?? "/", "http://localhost");
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/$/, "") : url.pathname;
  return { path, query: url.searchParams };
}

function matchOrError(method: string, path: string): Match | StarciteError {
  try {
    return router.match(method, path);
  } catch {
    return new StarciteError("bad_request", "the path holds a malformed percent-encoding");
  }
}

/**
 * Serves every HTTP request that is not GraphQL's: the REST routes, the SSE tail, CORS preflights, and a
 * JSON 404 that points at /graphql and the REST docs for anything else. Returns false for /graphql.
 */
export async function handleRest(req: http.IncomingMessage, res: http.ServerResponse, deps: RestDeps): Promise<boolean> {
  const { path, query } = pathOf(req);
  if (path === GRAPHQL_PATH) return false;
  const method = req.method ?? "GET";

  if (method === "OPTIONS") {
    const found = matchOrError("GET", path);
    const known = !(found instanceof StarciteError) && found.kind !== "none";
    // CORS preflights were answered by the server's guards (src/server/guards.ts), by its configured policy.
    res.writeHead(known ? 204 : 404, { allow: "GET, POST, PATCH, OPTIONS" }).end();
    return true;
  }

  const match = matchOrError(method, path);
  if (match instanceof StarciteError) {
    sendError(res, match);
    return true;
  }
  if (match.kind === "none") {
    sendError(res, routeNotFound(method, path));
    return true;
  }
  if (match.kind === "method_not_allowed") {
    sendError(
      res,
      new StarciteError("method_not_allowed", `${path} accepts ${match.allow.join(", ")}, not ${method}`, { allow: match.allow }),
      { allow: match.allow.join(", ") },
    );
    return true;
  }
  if (deps.closing()) {
    sendError(res, new StarciteError("shutting_down", "the server is shutting down; retry elsewhere"), { connection: "close" });
    return true;
  }

  const { route, params } = match;
  const limit = deps.maxBodyBytes ?? HTTP_LIMITS.bodyBytes;
  try {
    const credential = route.credentialInQuery ? tailCredential(req, query) : bearer(req.headers.authorization);
    const auth = route.auth ? await deps.authenticator.state(credential, { client: clientAddress(req) }) : {};
    if (route.auth) requirePrincipal(auth);
    const reply = await route.handle({ req, res, params, query, ctx: { ...deps, auth }, deps, body: () => readJson(req, limit) });
    if (reply) sendJson(res, reply.status, reply.body);
  } catch (thrown) {
    const error = asStarciteError(thrown, deps.logger);
    deps.logger.info("request error", { route: route.id, code: error.code, message: error.message });
    if (!declaredErrors(route).has(error.code)) {
      deps.logger.warn("undeclared REST error code", { route: route.id, code: error.code, message: error.message });
    }
    if (res.headersSent) {
      res.destroy();
    } else {
      sendError(res, error);
      if (error.code === "payload_too_large" && !req.readableEnded) drain(req);
    }
  }
  return true;
}

/** Answers an upgrade request with a plain HTTP error (before any WebSocket exists). */
function refuseUpgrade(socket: Duplex, error: StarciteError): void {
  const status = HTTP_STATUS[error.code];
  const body = JSON.stringify(errorBody(error));
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? "Not Found" : "Bad Request"}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/**
 * WebSocket upgrades on any path but /graphql: the plain tail at /v1/sessions/{id}/tail (no subprotocol);
 * anything else is refused with a JSON 404 before upgrading. False for /graphql (not ours).
 */
export function handleTailUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, deps: RestDeps): boolean {
  const { path, query } = pathOf(req);
  if (path === GRAPHQL_PATH) return false;
  const match = matchOrError("GET", path);
  if (match instanceof StarciteError) {
    refuseUpgrade(socket, match);
    return true;
  }
  if (match.kind !== "route" || match.route.id !== "tail") {
    refuseUpgrade(socket, routeNotFound("GET (WebSocket)", path));
    return true;
  }
  const sessionId = match.params.id!;
  deps.streams.wss.handleUpgrade(req, socket, head, (ws) => {
    void serveWsTail(ws, req, sessionId, query, deps).catch((error: unknown) => {
      const e = asStarciteError(error, deps.logger);
      ws.close(1011, `${e.code}: ${e.message}`.slice(0, 120));
    });
  });
  return true;
}
