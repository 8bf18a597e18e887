import type http from "node:http";
import type { ErrorCode } from "../db/errors.ts";
import type { Logger } from "../shared/logger.ts";

/**
 * What every HTTP request passes before routing (GraphQL, REST and whatever comes next): a request target the
 * router can read, CORS, declared body sizes. Plus the helpers routes use to read a bounded body and to
 * answer errors in the shape their path speaks.
 */

/** Cross-origin policy: `"*"` (any origin, never with credentials), a list of exact origins, or none (same-origin only). */
export type CorsOrigins = "*" | readonly string[];

/**
 * What a route under `prefix` adds to the CORS policy (the origins stay the server's): the methods and request
 * headers its preflights allow, and the response headers browsers may read. For protocols whose headers are
 * their API (Durable Streams).
 */
export interface RouteCors {
  prefix: string;
  methods: string;
  headers: string;
  expose: string;
}

export interface GuardOptions {
  cors: CorsOrigins;
  maxBodyBytes: number;
  logger: Logger;
  routeCors?: readonly RouteCors[];
}

/** Request headers a browser may send cross-origin (bearer credentials, JSON, SSE resume). */
const ALLOWED_HEADERS = "authorization, content-type, accept, last-event-id";
const ALLOWED_METHODS = "GET, POST, PATCH, DELETE, OPTIONS";
const EXPOSED_HEADERS = "retry-after";

/**
 * An error in the shape the path's API speaks: REST (`/v1/...`) `{"error","message"}`, everything else a
 * GraphQL-over-HTTP error list with `extensions.code`.
 */
export function sendError(
  res: http.ServerResponse,
  status: number,
  code: ErrorCode,
  message: string,
  headers: http.OutgoingHttpHeaders = {},
  detail: Record<string, unknown> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const path = (res.req?.url ?? "/").split("?")[0]!;
  const body = path.startsWith("/v1/")
    ? JSON.stringify({ error: code, message, ...detail })
    : JSON.stringify({ errors: [{ message, extensions: { code, ...detail } }] });
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body), ...headers });
  res.end(body);
}

/**
 * Absolute-form targets (`POST http://host/graphql`, which proxies send and RFC 9112 says servers must accept)
 * become their path; anything that is neither is refused. Returns false when it answered.
 */
function normaliseTarget(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const target = req.url ?? "";
  if (target.startsWith("/")) return true;
  const m = /^https?:\/\/[^/?#\s]*(\/[^#\s]*)?(\?[^#\s]*)?$/i.exec(target);
  if (m) {
    req.url = (m[1] ?? "/") + (m[2] ?? "");
    return true;
  }
  sendError(res, 400, "bad_request", "the request target must be a path (or an absolute http URL)", { connection: "close" });
  return false;
}

function applyCors(req: http.IncomingMessage, res: http.ServerResponse, origins: CorsOrigins, route: RouteCors | undefined): boolean {
  const origin = req.headers.origin;
  if (typeof origin !== "string") return false;
  const allowed = origins === "*" || origins.includes(origin);
  if (!allowed) return false;
  res.setHeader("access-control-allow-origin", origins === "*" ? "*" : origin);
  if (origins !== "*") res.setHeader("vary", "Origin");
  res.setHeader("access-control-expose-headers", route ? `${EXPOSED_HEADERS}, ${route.expose}` : EXPOSED_HEADERS);
  return true;
}

const declaredLength = (req: http.IncomingMessage): number | null => {
  const raw = req.headers["content-length"];
  if (raw === undefined) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : Number.POSITIVE_INFINITY;
};

/** Runs the guards; true when the request may be routed, false when it has been answered. */
export function guardRequest(req: http.IncomingMessage, res: http.ServerResponse, options: GuardOptions): boolean {
  // Every answer is what its Content-Type says, never sniffed into something a browser would run.
  res.setHeader("x-content-type-options", "nosniff");
  if (!normaliseTarget(req, res)) return false;
  const path = (req.url ?? "/").split("?")[0]!;
  const route = options.routeCors?.find((r) => path.startsWith(r.prefix));
  const cors = applyCors(req, res, options.cors, route);
  if (req.method === "OPTIONS" && req.headers["access-control-request-method"]) {
    // A preflight: allowed origins get the policy; others an answer without it, which the browser refuses.
    const headers: http.OutgoingHttpHeaders = cors
      ? {
          "access-control-allow-methods": route?.methods ?? ALLOWED_METHODS,
          "access-control-allow-headers": route?.headers ?? ALLOWED_HEADERS,
          "access-control-max-age": "600",
        }
      : {};
    res.writeHead(204, { ...headers, "content-length": 0 }).end();
    return false;
  }
  const length = declaredLength(req);
  if (length !== null && length > options.maxBodyBytes) {
    answerTooLarge(req, res, options);
    return false;
  }
  return true;
}

/**
 * 413, then keep reading (and dropping) what the client still sends, up to a bound: closing the socket on a
 * client that is still uploading resets it before it reads the answer.
 */
function answerTooLarge(req: http.IncomingMessage, res: http.ServerResponse, options: GuardOptions): void {
  let drained = 0;
  const cap = 8 * options.maxBodyBytes;
  req.on("data", (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > cap) req.socket.destroy();
  });
  req.on("error", () => {});
  req.resume();
  sendError(res, 413, "payload_too_large", `the request body is over ${options.maxBodyBytes} bytes`, {}, { limit: options.maxBodyBytes });
}

/** The body as text, at most `maxBodyBytes`; null when it has been answered (413) or the client went away. */
export function readBody(req: http.IncomingMessage, res: http.ServerResponse, options: GuardOptions): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (value: string | null) => {
      if (done) return;
      done = true;
      req.off("data", onData);
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.maxBodyBytes) {
        chunks.length = 0;
        answerTooLarge(req, res, options);
        finish(null);
        return;
      }
      chunks.push(chunk);
    };
    // A client that disconnects mid-body is not a server error: nothing to answer, nothing to log above debug.
    const gone = (reason: string) => {
      if (done) return;
      options.logger.debug("client went away while sending", { reason });
      finish(null);
    };
    if (req.destroyed && !req.complete) return gone("closed before the body was read");
    req.on("data", onData);
    // Most bodies arrive in one chunk: decode it as it is rather than copy it first.
    req.on("end", () => finish((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString("utf8")));
    req.on("error", (error) => gone(String(error)));
    req.on("close", () => {
      if (!req.complete) gone("connection closed");
    });
  });
}

/** The peer address, for per-client limits. */

/** `Retry-After` in whole seconds (at least 1). */
