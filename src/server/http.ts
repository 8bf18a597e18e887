import type http from "node:http";
import type { Authenticator } from "../auth/authenticator.ts";
import { bearer } from "../auth/authenticator.ts";
import type { AuthState } from "../auth/guard.ts";
import type { Logger } from "../shared/logger.ts";
import type { Metrics } from "../shared/metrics.ts";
import type { GraphQLEngine } from "./graphql.ts";
import { clientAddress, retryAfterSeconds } from "../auth/limiter.ts";
import { guardRequest, readBody, sendError, type GuardOptions } from "./guards.ts";
import { parseGraphQLParams, serveJsonPost, wantsStream } from "./http-graphql.ts";

export interface HttpDeps {
  engine: GraphQLEngine;
  authenticator: Authenticator;
  metrics: Metrics;
  logger: Logger;
  /** Readiness: the database answers, the LISTEN connection is up, and the server is not draining. */
  readiness: () => Promise<{ ok: boolean; detail: Record<string, unknown> }>;
  isClosing: () => boolean;
  /** POST /graphql with JSON runs through Yoga's envelop pipeline directly (see http-graphql.ts); off: Yoga handles everything. */
  fastPaths: boolean;
  /** The Durable Streams protocol under /v1/stream/: true when it answered (its path), false for any other path. */
  streams: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;
  /** Every other path (REST, the SSE tail, a JSON 404): true when it answered; false leaves the request to GraphQL. */
  rest: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;
  /** Target, CORS and body-size rules every request passes before routing. */
  guards: GuardOptions;
}

const json = (res: http.ServerResponse, status: number, body: string, extra: http.OutgoingHttpHeaders = {}) =>
  res.writeHead(status, { "content-type": "application/json", ...extra }).end(body);

/** The HTTP side of the server: guards, then health and metrics, REST, then GraphQL (fast path or Yoga). */
export function createRequestHandler(deps: HttpDeps): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> {
  const { engine, authenticator, metrics, logger } = deps;
  const getEnveloped = engine.yoga.getEnveloped as unknown as Parameters<typeof serveJsonPost>[2];

  /** The request's credential, checked once (and counted against its address when it fails); null when answered. */
  async function authenticate(req: http.IncomingMessage, res: http.ServerResponse): Promise<AuthState | null> {
    const auth = await authenticator.state(bearer(req.headers.authorization), { client: clientAddress(req) });
    if (auth.error?.code === "too_many_requests") {
      const wait = Number(auth.error.detail.retry_after_ms ?? 1000);
      sendError(res, 429, "too_many_requests", auth.error.message, { "retry-after": retryAfterSeconds(wait) });
      return null;
    }
    return auth;
  }

  /** Yoga's own HTTP handling (GET, GraphiQL, streamed responses), given a Fetch request we built: a bad Host or target cannot reach it. */
  async function viaYoga(req: http.IncomingMessage, res: http.ServerResponse, body: string | null, auth: AuthState): Promise<void> {
    const abort = new AbortController();
    res.once("close", () => abort.abort());
    const headers: Record<string, string> = {};
    for (const name of ["accept", "content-type"] as const) {
      const value = req.headers[name];
      if (typeof value === "string") headers[name] = value;
    }
    const request = new engine.yoga.fetchAPI.Request(`http://localhost${req.url ?? "/"}`, {
      method: req.method ?? "GET",
      headers,
      ...(body !== null ? { body } : {}),
      signal: abort.signal,
    });
    const response = await engine.yoga.fetch(request, { req, res, presetAuth: auth });
    const out: http.OutgoingHttpHeaders = {};
    response.headers.forEach((value, name) => (out[name] = value));
    res.writeHead(response.status, out);
    if (!response.body) {
      res.end();
      return;
    }
    // Yoga's streams are its own ponyfill: read them by hand, waiting for the socket to drain.
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || res.destroyed) break;
        if (!res.write(value)) await new Promise((resolve) => res.once("drain", resolve).once("close", resolve));
      }
      res.end();
    } catch {
      res.destroy();
    } finally {
      void reader.cancel().catch(() => {});
    }
  }

  async function serveGraphQL(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method !== "POST" && req.method !== "GET") {
      sendError(res, 405, "method_not_allowed", "GraphQL takes GET (queries) or POST", { allow: "GET, POST, OPTIONS" });
      return;
    }
    const auth = await authenticate(req, res);
    if (!auth) return;
    if (req.method === "GET") {
      await viaYoga(req, res, null, auth);
      return;
    }
    const type = req.headers["content-type"] ?? "";
    if (!/^application\/(graphql-response\+)?json\s*(;|$)/i.test(type)) {
      sendError(res, 415, "unsupported_media_type", "POST /graphql takes content-type: application/json");
      return;
    }
    const body = await readBody(req, res, deps.guards);
    if (body === null) return;
    const params = parseGraphQLParams(body);
    if ("error" in params) {
      sendError(res, 400, "bad_request", params.error);
      return;
    }
    if (deps.fastPaths && !wantsStream(req)) await serveJsonPost(req, res, getEnveloped, auth, params, engine.validate, engine.execute);
    else await viaYoga(req, res, body, auth);
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!guardRequest(req, res, deps.guards)) return;
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/health/live") {
      json(res, 200, '{"status":"ok"}');
      return;
    }
    if (path === "/health/ready") {
      const { ok, detail } = await deps.readiness();
      json(res, ok ? 200 : 503, JSON.stringify({ status: ok ? "ok" : "unavailable", ...detail }));
      return;
    }
    if (path === "/metrics") {
      res.writeHead(200, { "content-type": metrics.registry.contentType }).end(await metrics.registry.metrics());
      return;
    }
    // /graphql first: the hottest path (every append mutation) skips the other routers' URL parsing and awaits.
    if (path !== "/graphql") {
      if (await deps.streams(req, res)) return;
      if (await deps.rest(req, res)) return;
    }
    if (deps.isClosing()) {
      sendError(res, 503, "shutting_down", "the server is shutting down", { connection: "close" });
      return;
    }
    if (path === "/graphql") {
      await serveGraphQL(req, res);
      return;
    }
    sendError(res, 404, "route_not_found", `no route for ${req.method} ${path}`);
  }

  return async (req, res) => {
    try {
      await route(req, res);
    } catch (error) {
      logger.error("unexpected error", { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      if (!res.headersSent) sendError(res, 500, "internal_error", "Unexpected error.");
      else res.destroy();
    }
  };
}
