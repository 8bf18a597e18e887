import type http from "node:http";
import { TextDecoder } from "node:util";
import type { AppContext } from "../app/context.ts";
import * as streams from "../app/streams.ts";
import { bearer } from "../auth/authenticator.ts";
import { clientAddress } from "../auth/limiter.ts";
import { requirePrincipal } from "../auth/guard.ts";
import { StarciteError, toStarciteError } from "../db/errors.ts";
import type { StreamBody, StreamState } from "../db/streams.ts";
import { STREAM_LIMITS } from "../shared/limits.ts";
import type { StreamsDeps } from "./deps.ts";
import { BASE_HEADERS, drain, readBody, sendError } from "./http.ts";
import {
  formatOffset,
  H,
  isJson,
  isRfc3339,
  isTrue,
  parseOffset,
  STREAM_METHODS as METHODS,
  STREAM_ROOT,
  strictInteger,
} from "./protocol.ts";
import { longPoll, seqOf, sendChunk, sendNow, catchUp } from "./read.ts";
import { serveSse } from "./sse.ts";
import { handleControl, sendControlError } from "./subscriptions/routes.ts";

const header = (req: http.IncomingMessage, name: string): string | null => {
  const v = req.headers[name];
  return typeof v === "string" ? v : Array.isArray(v) ? (v[0] ?? null) : null;
};

const badRequest = (message: string, field?: string) => new StarciteError("invalid_argument", message, field ? { field } : {});

/** A stream path from a URL path under STREAM_ROOT, or from a Stream-Forked-From value (a path or a URL). */
function streamPathOf(raw: string): string {
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    throw new StarciteError("bad_request", "the stream path holds a malformed percent-encoding");
  }
  // NUL cannot even reach SQL's own check (ds_check_path) as a text parameter.
  if (/\p{Cc}/u.test(path)) throw badRequest("a stream path may not contain control characters", "path");
  return path;
}

function forkSourceOf(value: string): string {
  const pathname = new URL(value, "http://localhost").pathname;
  return streamPathOf(pathname.startsWith(STREAM_ROOT) ? pathname.slice(STREAM_ROOT.length) : pathname.replace(/^\//, ""));
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A request body as a stream body: JSON text (checked by src/app, flattened in SQL) for a JSON content type, else bytes. */
function bodyOf(bytes: Buffer, contentType: string | null): StreamBody {
  if (bytes.length === 0) return null;
  if (contentType !== null && isJson(contentType)) {
    try {
      return { json: utf8.decode(bytes) };
    } catch {
      throw new StarciteError("invalid_event", "the body is not valid UTF-8", { field: "body" });
    }
  }
  return { bytes };
}

function stateHeaders(state: StreamState): http.OutgoingHttpHeaders {
  return {
    "content-type": state.contentType,
    [H.nextOffset]: formatOffset(state.offsetEpoch, state.tailSeq),
    [H.sessionId]: state.sessionId,
    ...(state.closed ? { [H.closed]: "true" } : {}),
  };
}

/** PUT: create (201, Location) or confirm (200); a fork when Stream-Forked-From is set. */
async function put(req: http.IncomingMessage, res: http.ServerResponse, ctx: AppContext, path: string): Promise<void> {
  const ttlRaw = header(req, H.ttl);
  const expiresRaw = header(req, H.expiresAt);
  const ttl = ttlRaw === null ? null : strictInteger(ttlRaw);
  if (ttlRaw !== null && ttl === null)
    throw badRequest("Stream-TTL is a non-negative integer of seconds (no sign, no leading zeros)", "ttl");
  if (expiresRaw !== null && !isRfc3339(expiresRaw)) throw badRequest("Stream-Expires-At is an RFC 3339 date-time", "expires_at");
  if (ttlRaw !== null && expiresRaw !== null) throw badRequest("send Stream-TTL or Stream-Expires-At, not both", "ttl");

  const forkedFrom = header(req, H.forkedFrom);
  const forkOffsetRaw = header(req, H.forkOffset);
  const subRaw = header(req, H.forkSubOffset);
  if (forkedFrom === null && (forkOffsetRaw !== null || subRaw !== null)) {
    throw badRequest("Stream-Fork-Offset and Stream-Fork-Sub-Offset need Stream-Forked-From", "fork");
  }
  const sub = subRaw === null ? 0 : strictInteger(subRaw);
  if (sub === null) throw badRequest("Stream-Fork-Sub-Offset is a non-negative integer", "fork_sub_offset");
  const forkOffset = forkOffsetRaw === null ? null : parseOffset(forkOffsetRaw);
  if ((forkOffset === null && forkOffsetRaw !== null) || forkOffset?.kind === "now")
    throw badRequest("Stream-Fork-Offset is malformed", "fork_offset");
  if (forkedFrom !== null && forkOffset === null && sub > 0) {
    throw badRequest("a sub-offset past the source's tail names nothing: send Stream-Fork-Offset with it", "fork_sub_offset");
  }

  const contentType = header(req, "content-type");
  const bytes = await readBody(req, STREAM_LIMITS.bodyBytes);
  if (forkedFrom !== null && contentType === null && bytes.length > 0) {
    throw badRequest("a fork with an initial body needs its Content-Type", "content_type");
  }
  const { created, state } = await streams.create(ctx, {
    path,
    contentType,
    ttlSeconds: ttl,
    expiresAt: expiresRaw,
    closed: isTrue(req.headers[H.closed]),
    body: bodyOf(bytes, contentType),
    fork:
      forkedFrom === null
        ? null
        : {
            path: forkSourceOf(forkedFrom),
            epoch: forkOffset === null ? null : forkOffset.kind === "at" ? forkOffset.epoch : 0,
            seq: forkOffset === null ? null : forkOffset.kind === "at" ? forkOffset.seq : 0,
            subOffset: sub,
          },
    actor: header(req, H.actor),
  });
  const headers = { ...BASE_HEADERS, ...stateHeaders(state), "content-length": 0 };
  if (created) {
    const proto = header(req, "x-forwarded-proto") ?? "http";
    res.writeHead(201, { ...headers, location: `${proto}://${req.headers.host ?? "localhost"}${(req.url ?? "").split("?")[0]}` }).end();
  } else {
    res.writeHead(200, headers).end();
  }
}

/** POST: append (and/or close). 204, or 200 for an idempotent producer's new data; the producer's state echoed. */
async function post(req: http.IncomingMessage, res: http.ServerResponse, ctx: AppContext, path: string): Promise<void> {
  const ids = [H.producerId, H.producerEpoch, H.producerSeq].map((h) => header(req, h));
  let producer: { id: string; epoch: number; seq: number } | null = null;
  if (ids.some((v) => v !== null)) {
    const [id, epochRaw, seqRaw] = ids;
    const epoch = epochRaw == null ? null : strictInteger(epochRaw);
    const seq = seqRaw == null ? null : strictInteger(seqRaw);
    if (!id || epoch === null || seq === null) {
      throw badRequest("Producer-Id (non-empty), Producer-Epoch and Producer-Seq (integers >= 0) go together", "producer");
    }
    producer = { id, epoch, seq };
  }
  const close = isTrue(req.headers[H.closed]);
  const contentType = header(req, "content-type");
  const bytes = await readBody(req, STREAM_LIMITS.bodyBytes);
  if (bytes.length === 0 && !close) throw badRequest("an append needs a body (an empty one only with Stream-Closed: true)", "body");
  if (bytes.length > 0 && !contentType) throw badRequest("an append with a body needs its Content-Type", "content_type");

  const result = await streams.append(ctx, {
    path,
    contentType: bytes.length > 0 ? contentType : null,
    body: bodyOf(bytes, contentType),
    streamSeq: header(req, H.seq),
    producer,
    close,
    actor: header(req, H.actor),
  });
  const status = producer && result.outcome === "appended" && bytes.length > 0 ? 200 : 204;
  res
    .writeHead(status, {
      ...BASE_HEADERS,
      [H.nextOffset]: formatOffset(result.state.offsetEpoch, result.state.tailSeq),
      ...(result.state.closed ? { [H.closed]: "true" } : {}),
      ...(producer
        ? {
            [H.producerEpoch]: String(result.producerEpoch ?? producer.epoch),
            [H.producerSeq]: String(result.producerSeq ?? producer.seq),
          }
        : {}),
    })
    .end();
}

async function head(req: http.IncomingMessage, res: http.ServerResponse, ctx: AppContext, path: string): Promise<void> {
  const state = await streams.resolve(ctx, path, false);
  res
    .writeHead(200, {
      ...BASE_HEADERS,
      ...stateHeaders(state),
      "cache-control": "no-store",
      ...(state.ttlSeconds !== null ? { [H.ttl]: String(state.ttlSeconds) } : {}),
      ...(state.expiresAt !== null ? { [H.expiresAt]: state.expiresAt } : {}),
    })
    .end();
}

/** GET: catch-up, ?offset=now, ?live=long-poll or ?live=sse. */
async function get(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  ctx: AppContext,
  deps: StreamsDeps,
  path: string,
  query: URLSearchParams,
): Promise<void> {
  const offsets = query.getAll("offset");
  if (offsets.length > 1) throw badRequest("one offset at a time", "offset");
  const live = query.get("live");
  if (live !== null && live !== "long-poll" && live !== "sse") throw badRequest("live is long-poll or sse", "live");
  if (live !== null && offsets.length === 0)
    throw badRequest(`live=${live} needs an offset (-1 for the start, now for the tail)`, "offset");
  const offset = offsets.length === 0 ? { kind: "start" as const } : parseOffset(offsets[0]!);
  if (offset === null) throw badRequest("malformed offset", "offset");

  const state = await streams.resolve(ctx, path, true);
  const from = seqOf(offset, state);
  const cursor = query.get("cursor");
  if (live === "sse") return serveSse(req, res, ctx, deps, state, from, cursor);
  if (live === "long-poll") return longPoll(req, res, ctx, deps, state, from, cursor);
  if (offset.kind === "now") return sendNow(req, res, state);
  sendChunk(req, res, state, await catchUp(ctx, state, from));
}

async function remove(req: http.IncomingMessage, res: http.ServerResponse, ctx: AppContext, path: string): Promise<void> {
  await streams.remove(ctx, path);
  res.writeHead(204, BASE_HEADERS).end();
}

/**
 * The Durable Streams protocol at /v1/stream/<path> (docs/durable-streams.md). False for any other path, so the
 * server's other routes get it.
 */
export async function handleStreams(req: http.IncomingMessage, res: http.ServerResponse, deps: StreamsDeps): Promise<boolean> {
  // The path as sent: a URL parser would resolve "." and ".." segments, turning a/../b into another stream's name.
  const target = req.url ?? "/";
  const q = target.indexOf("?");
  const rawPath = q < 0 ? target : target.slice(0, q);
  if (!rawPath.startsWith(STREAM_ROOT)) return false;
  const query = new URLSearchParams(q < 0 ? "" : target.slice(q + 1));
  const method = req.method ?? "GET";
  if (method === "OPTIONS") {
    // A CORS preflight was answered by the server's guards; a plain OPTIONS learns the methods.
    res.writeHead(204, { ...BASE_HEADERS, allow: METHODS, "content-length": 0 }).end();
    return true;
  }
  let control = false;
  try {
    const path = streamPathOf(rawPath.slice(STREAM_ROOT.length));
    if (deps.closing()) throw new StarciteError("shutting_down", "the server is shutting down; retry elsewhere");
    // The reserved prefix goes first, so a control path is never taken for a stream.
    if (path === "__ds" || path.startsWith("__ds/")) {
      control = true;
      await handleControl(req, res, deps, deps.subscriptions, path.slice("__ds/".length));
      return true;
    }
    const auth = await deps.authenticator.state(bearer(req.headers.authorization), { client: clientAddress(req) });
    requirePrincipal(auth);
    const ctx: AppContext = { ...deps, auth };
    switch (method) {
      case "PUT":
        await put(req, res, ctx, path);
        break;
      case "POST":
        await post(req, res, ctx, path);
        break;
      case "GET":
        await get(req, res, ctx, deps, path, query);
        break;
      case "HEAD":
        await head(req, res, ctx, path);
        break;
      case "DELETE":
        await remove(req, res, ctx, path);
        break;
      default:
        throw new StarciteError("method_not_allowed", `streams accept ${METHODS}, not ${method}`, { allow: METHODS });
    }
  } catch (thrown) {
    const mapped = toStarciteError(thrown);
    let error: StarciteError;
    if (mapped instanceof StarciteError) {
      error = mapped;
    } else {
      deps.logger.error("unexpected error", { error: thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown) });
      error = new StarciteError("internal_error", "Unexpected error.");
    }
    if (res.headersSent) {
      res.destroy();
    } else {
      if (control) sendControlError(res, error);
      else sendError(res, error, error.code === "method_not_allowed" ? { allow: METHODS } : {});
      if (!req.readableEnded) drain(req);
    }
  }
  return true;
}
