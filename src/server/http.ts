import type http from "node:http";
import type { Authenticator } from "../auth/authenticator.ts";
import { bearer } from "../auth/authenticator.ts";
import type { Logger } from "../shared/logger.ts";
import type { Metrics } from "../shared/metrics.ts";
import type { GraphQLEngine } from "./graphql.ts";
import { isJsonPost, serveJsonPost } from "./http-graphql.ts";

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
}

const json = (res: http.ServerResponse, status: number, body: string, extra: http.OutgoingHttpHeaders = {}) =>
  res.writeHead(status, { "content-type": "application/json", ...extra }).end(body);

/** The HTTP side of the server: health and metrics, REST, then GraphQL (fast path or Yoga). */
export function createRequestHandler(deps: HttpDeps): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> {
  const { engine, authenticator, metrics, logger } = deps;
  const getEnveloped = engine.yoga.getEnveloped as unknown as Parameters<typeof serveJsonPost>[2];

  return async (req, res) => {
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
    if (await deps.streams(req, res)) return;
    if (await deps.rest(req, res)) return;
    if (deps.isClosing()) {
      json(res, 503, '{"errors":[{"message":"the server is shutting down","extensions":{"code":"shutting_down"}}]}', { connection: "close" });
      return;
    }
    if (deps.fastPaths && path === "/graphql" && isJsonPost(req)) {
      try {
        await serveJsonPost(req, res, getEnveloped, await authenticator.state(bearer(req.headers.authorization)));
      } catch (error) {
        logger.error("unexpected error", { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
        if (!res.headersSent) json(res, 500, '{"errors":[{"message":"Unexpected error.","extensions":{"code":"internal_error"}}]}');
      }
      return;
    }
    await engine.yoga.handle(req, res, { req, res });
  };
}
