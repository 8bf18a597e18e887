import type http from "node:http";
import type { AppContext } from "../../app/context.ts";
import * as subscriptions from "../../app/stream-subscriptions.ts";
import { bearer } from "../../auth/authenticator.ts";
import { clientAddress } from "../../auth/limiter.ts";
import { requirePrincipal } from "../../auth/guard.ts";
import { HTTP_STATUS, StarciteError, type ErrorCode } from "../../db/errors.ts";
import type { Ack } from "../../db/subscriptions.ts";
import type { StreamsDeps, SubscriptionDeps } from "../deps.ts";
import { BASE_HEADERS, readBody } from "../http.ts";
import { parseOffset } from "../protocol.ts";
import { checkWebhookUrl } from "../../app/webhook-url.ts";
import { subscriptionJson, wakeStreamsJson } from "./wire.ts";

/** The protocol's error codes for ours (PROTOCOL.md 6-7: `{"error": {"code": ...}}`); others are upper-cased. */
const DS_CODES: Partial<Record<ErrorCode, string>> = {
  invalid_argument: "INVALID_REQUEST",
  invalid_event: "INVALID_REQUEST",
  bad_request: "INVALID_REQUEST",
  payload_too_large: "INVALID_REQUEST",
  subscription_not_found: "SUBSCRIPTION_NOT_FOUND",
  subscription_conflict: "SUBSCRIPTION_ALREADY_EXISTS",
  subscription_fenced: "FENCED",
  subscription_claimed: "ALREADY_CLAIMED",
  subscription_no_work: "NO_PENDING_WORK",
  webhook_url_rejected: "WEBHOOK_URL_REJECTED",
  unauthorized: "TOKEN_INVALID",
  token_expired: "TOKEN_EXPIRED",
  route_not_found: "NOT_FOUND",
};

export function sendControlError(res: http.ServerResponse, error: StarciteError, extra: http.OutgoingHttpHeaders = {}): void {
  const body = JSON.stringify({
    error: { code: DS_CODES[error.code] ?? error.code.toUpperCase(), message: error.message, starcite_code: error.code, ...error.detail },
  });
  res
    .writeHead(HTTP_STATUS[error.code], {
      ...BASE_HEADERS,
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      "cache-control": "no-store",
      ...extra,
    })
    .end(body);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, extra: http.OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      ...BASE_HEADERS,
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
      "cache-control": "no-store",
      ...extra,
    })
    .end(text);
}

const invalid = (message: string, field: string) => new StarciteError("invalid_argument", message, { field });

const CONTROL_BODY_BYTES = 1024 * 1024;

async function jsonBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const bytes = await readBody(req, CONTROL_BODY_BYTES);
  if (bytes.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new StarciteError("bad_request", "the body is not valid JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw invalid("the body is a JSON object", "body");
  return value as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, key: string): string | null {
  const v = body[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") throw invalid(`${key} is a string`, key);
  return v;
}

function stringList(value: unknown, key: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((s) => typeof s !== "string")) throw invalid(`${key} is an array of stream paths`, key);
  return value as string[];
}

/** The acks of a callback or ack request: [{stream (or path), offset}], offsets as the streams gave them. */
function acksOf(value: unknown): Ack[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid("acks is an array", "acks");
  return value.map((a: unknown) => {
    const item = (a ?? {}) as { stream?: unknown; path?: unknown; offset?: unknown };
    const path = typeof item.stream === "string" ? item.stream : item.path;
    const offset = typeof item.offset === "string" ? parseOffset(item.offset) : null;
    if (typeof path !== "string" || offset?.kind !== "at")
      throw invalid("each ack is {stream, offset} with an offset the stream gave", "acks");
    return { path, epoch: offset.epoch, seq: offset.seq };
  });
}

function fence(body: Record<string, unknown>, grant: subscriptions.WakeGrant): void {
  if (body.wake_id !== grant.wakeId || body.generation !== grant.generation) {
    throw new StarciteError("subscription_fenced", "wake_id and generation are not the token's", { generation: grant.generation });
  }
}

function baseUrlOf(req: http.IncomingMessage): string {
  const proto = req.headers["x-forwarded-proto"];
  return `${typeof proto === "string" ? proto.split(",")[0]!.trim() : "http"}://${req.headers.host ?? "localhost"}`;
}

/**
 * The reserved control API under /v1/stream/__ds/ (PROTOCOL.md 6-7): the webhook signing JWKS, subscriptions and
 * their stream links, webhook callbacks, and pull-wake claim / ack / release. `rest` is the path after "__ds/".
 */
export async function handleControl(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  deps: StreamsDeps,
  sub: SubscriptionDeps,
  rest: string,
): Promise<void> {
  const method = req.method ?? "GET";
  const [first, id, action, ...tail] = rest.split("/");
  const appCtx = async (): Promise<AppContext> => {
    const auth = await deps.authenticator.state(bearer(req.headers.authorization), { client: clientAddress(req) });
    requirePrincipal(auth);
    return { ...deps, auth };
  };
  const notFound = () => new StarciteError("route_not_found", `no ${method} ${rest} in the Durable Streams control API`);

  if (first === "jwks.json" && id === undefined) {
    if (method !== "GET") throw notFound();
    sendJson(res, 200, sub.keys.jwks(), { "content-type": "application/jwk-set+json", "cache-control": "public, max-age=300" });
    return;
  }
  if (first !== "subscriptions" || !id) throw notFound();

  if (action === undefined) {
    const ctx = await appCtx();
    if (method === "PUT") {
      const body = await jsonBody(req);
      const type = optionalString(body, "type");
      const webhook = body.webhook as { url?: unknown } | undefined | null;
      const webhookUrl = webhook && typeof webhook === "object" && typeof webhook.url === "string" ? webhook.url : null;
      if (type === "webhook" && webhookUrl !== null) checkWebhookUrl(webhookUrl, sub.allowLocalHttp);
      const lease = body.lease_ttl_ms ?? 30_000;
      if (typeof lease !== "number" || !Number.isInteger(lease)) throw invalid("lease_ttl_ms is an integer", "lease_ttl_ms");
      const created = await subscriptions.subscribe(ctx, {
        id,
        type: type ?? "",
        pattern: optionalString(body, "pattern"),
        streams: stringList(body.streams, "streams"),
        webhookUrl,
        wakeStream: optionalString(body, "wake_stream"),
        leaseTtlMs: lease,
        description: optionalString(body, "description"),
        baseUrl: baseUrlOf(req),
      });
      if (created) sub.dispatcher.awake();
      sendJson(res, created ? 201 : 200, subscriptionJson(await subscriptions.get(ctx, id), sub.keys));
      return;
    }
    if (method === "GET") {
      sendJson(res, 200, subscriptionJson(await subscriptions.get(ctx, id), sub.keys));
      return;
    }
    if (method === "DELETE") {
      await subscriptions.unsubscribe(ctx, id);
      res.writeHead(204, BASE_HEADERS).end();
      return;
    }
    throw notFound();
  }

  if (action === "streams") {
    const ctx = await appCtx();
    if (method === "POST" && tail.length === 0) {
      await subscriptions.link(ctx, id, stringList((await jsonBody(req)).streams, "streams"));
    } else if (method === "DELETE" && tail.length > 0) {
      await subscriptions.unlink(ctx, id, tail.join("/"));
    } else {
      throw notFound();
    }
    res.writeHead(204, BASE_HEADERS).end();
    return;
  }
  if (method !== "POST" || tail.length > 0) throw notFound();

  if (action === "claim") {
    const ctx = await appCtx();
    const worker = optionalString(await jsonBody(req), "worker") ?? "";
    const wake = await subscriptions.claim(ctx, id, worker);
    const token = await sub.keys.token(
      { tenantId: wake.tenantId, subscriptionId: id, wakeId: wake.wakeId, generation: wake.generation },
      "claim",
    );
    sendJson(res, 200, {
      wake_id: wake.wakeId,
      generation: wake.generation,
      token,
      streams: wakeStreamsJson(wake),
      lease_ttl_ms: wake.leaseTtlMs,
    });
    return;
  }
  if (action === "callback" || action === "ack") {
    const grant = await sub.keys.verify(bearer(req.headers.authorization), action === "callback" ? "callback" : "claim", id);
    const body = await jsonBody(req);
    fence(body, grant);
    const result = await subscriptions.ack(deps, grant, acksOf(body.acks), body.done === true);
    if (result.next) sub.dispatcher.deliver([result.next]);
    sendJson(res, 200, { ok: true, next_wake: result.nextWake });
    return;
  }
  if (action === "release") {
    const grant = await sub.keys.verify(bearer(req.headers.authorization), "claim", id);
    fence(await jsonBody(req), grant);
    sub.dispatcher.deliver(await subscriptions.release(deps, grant));
    res.writeHead(204, BASE_HEADERS).end();
    return;
  }
  throw notFound();
}
