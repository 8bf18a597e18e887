import type http from "node:http";
import type { AppContext } from "../app/context.ts";
import * as streams from "../app/streams.ts";
import { StarciteError } from "../db/errors.ts";
import type { StreamState } from "../db/streams.ts";
import type { StoredEvent } from "../db/types.ts";
import type { StreamsDeps } from "./deps.ts";
import { BASE_HEADERS, sendError } from "./http.ts";
import { isCloseMarker, readBody } from "./messages.ts";
import { formatOffset, H, isJson, nextCursor, type Offset } from "./protocol.ts";

/** Messages per catch-up read, and about how many bytes of them (a larger single message still goes whole). */
export const PAGE_EVENTS = 1000;
export const PAGE_BYTES = 1024 * 1024;

/** The seq an offset stands for in this stream: 410 for another incarnation's offsets, 400 past the tail. */
export function seqOf(offset: Offset, state: StreamState): number {
  if (offset.kind === "start") return 0;
  if (offset.kind === "now") return state.tailSeq;
  if (offset.epoch !== state.offsetEpoch) {
    throw new StarciteError("stream_gone", "the offset belongs to data of this path that was deleted (or to another stream)", {
      field: "offset",
    });
  }
  if (offset.seq > state.tailSeq) {
    throw new StarciteError("invalid_argument", "the offset is beyond the stream's tail", { field: "offset" });
  }
  return offset.seq;
}

/** A read's outcome: its messages (the closing marker taken out) and where it leaves the reader. */
export interface Chunk {
  from: number;
  messages: StoredEvent[];
  /** The seq the reader is at after it. */
  last: number;
  upToDate: boolean;
  /** The stream is closed and the reader has everything: EOF. */
  closed: boolean;
}

/** Shapes events read after `from` into a chunk, cutting it at about PAGE_BYTES. `complete`: nothing beyond them existed. */
export function chunkOf(state: StreamState, from: number, events: readonly StoredEvent[], complete: boolean): Chunk {
  const messages: StoredEvent[] = [];
  let bytes = 0;
  let marker = false;
  for (const e of events) {
    if (isCloseMarker(e)) {
      marker = true;
      break;
    }
    const size = typeof e.payload.base64 === "string" ? e.payload.base64.length * 0.75 : JSON.stringify(e.payload).length;
    if (messages.length > 0 && bytes + size > PAGE_BYTES) {
      complete = false;
      break;
    }
    messages.push(e);
    bytes += size;
  }
  const last = messages.at(-1)?.seq ?? from;
  const closed = marker || (state.closed && last >= state.tailSeq);
  return { from, messages, last, closed, upToDate: closed || (complete && last >= state.tailSeq) };
}

/** A catch-up page from `from` (the database, byte-bounded). */
export async function catchUp(ctx: AppContext, state: StreamState, from: number): Promise<Chunk> {
  if (from >= state.tailSeq && !state.closed) return chunkOf(state, from, [], true);
  const events = await streams.page(ctx, state, from, PAGE_EVENTS, PAGE_BYTES);
  return chunkOf(state, from, events, events.length < PAGE_EVENTS);
}

function etag(state: StreamState, chunk: Chunk): string {
  return `"${state.sessionId}:${chunk.from}:${chunk.last}${chunk.closed ? ":c" : ""}"`;
}

/** Answers a read with a chunk: 200 with its messages, or 304 when the client has exactly this chunk (If-None-Match). */
export function sendChunk(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  state: StreamState,
  chunk: Chunk,
  extra: http.OutgoingHttpHeaders = {},
): void {
  const tag = etag(state, chunk);
  const headers: http.OutgoingHttpHeaders = {
    ...BASE_HEADERS,
    "content-type": state.contentType,
    [H.nextOffset]: formatOffset(state.offsetEpoch, chunk.last),
    [H.sessionId]: state.sessionId,
    etag: tag,
    // A chunk with data never changes; an empty answer at the tail does as soon as something is appended.
    "cache-control": chunk.messages.length > 0 ? "private, max-age=60, stale-while-revalidate=300" : "no-store",
    ...(chunk.upToDate ? { [H.upToDate]: "true" } : {}),
    ...(chunk.closed ? { [H.closed]: "true" } : {}),
    ...extra,
  };
  const ifNoneMatch = req.headers["if-none-match"];
  if (ifNoneMatch && ifNoneMatch.split(",").some((t) => t.trim() === tag)) {
    res.writeHead(304, headers).end();
    return;
  }
  const body = req.method === "HEAD" ? Buffer.alloc(0) : readBody(chunk.messages, isJson(state.contentType));
  res.writeHead(200, { ...headers, "content-length": body.length }).end(body);
}

/** GET ?offset=now without live: the tail, no data (an empty JSON array for JSON streams), never cached. */
export function sendNow(req: http.IncomingMessage, res: http.ServerResponse, state: StreamState): void {
  const body = isJson(state.contentType) ? "[]" : "";
  res
    .writeHead(200, {
      ...BASE_HEADERS,
      "content-type": state.contentType,
      "content-length": Buffer.byteLength(body),
      "cache-control": "no-store",
      [H.nextOffset]: formatOffset(state.offsetEpoch, state.tailSeq),
      [H.upToDate]: "true",
      [H.sessionId]: state.sessionId,
      ...(state.closed ? { [H.closed]: "true" } : {}),
    })
    .end(body);
}

/**
 * GET ?live=long-poll: data after the offset at once if there is some; a closed stream's EOF at once; otherwise
 * wait on the session's live feed (the fan-out every tail shares) until something is appended or the long-poll
 * timeout passes (204).
 */
export async function longPoll(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  ctx: AppContext,
  deps: StreamsDeps,
  state: StreamState,
  from: number,
  clientCursor: string | null,
): Promise<void> {
  const cursorHeader = { [H.cursor]: nextCursor(clientCursor) };
  const first = await catchUp(ctx, state, from);
  if (first.messages.length > 0 || first.closed) {
    if (first.messages.length > 0) return sendChunk(req, res, state, first, cursorHeader);
    return sendEmpty(req, res, state, first, {});
  }

  const tail = await streams.follow(ctx, state, from);
  let outcome: "timeout" | "shutdown" | "gone" | null = null;
  const end = (why: "timeout" | "shutdown" | "gone") => {
    outcome ??= why;
    void tail.return();
  };
  const timer = setTimeout(() => end("timeout"), deps.options.longPollMs);
  const unregister = deps.live.add({ stop: () => end("shutdown") });
  const onClose = () => end("gone");
  res.once("close", onClose);
  try {
    for (;;) {
      const step = await tail.next();
      if (step.done) break;
      if (step.value.events.length === 0) continue;
      const chunk = chunkOf(state, from, step.value.events, true);
      if (chunk.messages.length > 0) return sendChunk(req, res, state, chunk, cursorHeader);
      return sendEmpty(req, res, state, chunk, {});
    }
  } finally {
    clearTimeout(timer);
    unregister();
    res.off("close", onClose);
    await tail.return();
  }
  if (outcome === "shutdown") return sendError(res, new StarciteError("shutting_down", "the server is shutting down; retry"));
  if (outcome === "timeout") return sendEmpty(req, res, state, chunkOf(state, from, [], true), cursorHeader);
}

/** 204: nothing new (timeout), or EOF of a closed stream; the offset to continue from, up to date. */
function sendEmpty(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  state: StreamState,
  chunk: Chunk,
  extra: http.OutgoingHttpHeaders,
): void {
  res
    .writeHead(204, {
      ...BASE_HEADERS,
      "cache-control": "no-store",
      [H.nextOffset]: formatOffset(state.offsetEpoch, chunk.last),
      [H.upToDate]: "true",
      [H.sessionId]: state.sessionId,
      ...(chunk.closed ? { [H.closed]: "true" } : {}),
      ...extra,
    })
    .end();
}
