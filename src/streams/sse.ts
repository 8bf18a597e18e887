import { once } from "node:events";
import type http from "node:http";
import type { AppContext } from "../app/context.ts";
import * as streams from "../app/streams.ts";
import type { StarciteError } from "../db/errors.ts";
import type { StreamState } from "../db/streams.ts";
import type { StoredEvent } from "../db/types.ts";
import type { TailIterator } from "../live/tail-iterator.ts";
import type { StreamsDeps } from "./deps.ts";
import { BASE_HEADERS } from "./http.ts";
import { readBody } from "./messages.ts";
import { formatOffset, H, isJson, nextCursor, sseIsText } from "./protocol.ts";
import { catchUp, chunkOf, PAGE_EVENTS, type Chunk } from "./read.ts";

/** A data event's text for a JSON or text stream: one `data:` line per line (SSE cannot carry a line break otherwise). */
function dataLines(text: string): string {
  // A field value loses one leading space when parsed, so a line that starts with one gets one more.
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => `data:${line.startsWith(" ") ? " " : ""}${line}\n`)
    .join("");
}

/**
 * GET ?live=sse: replays from the offset (byte-bounded catch-up pages from the database), then follows the stream
 * live through the session's shared feed. Every data event is followed by a control event with the offset after
 * it, upToDate once the reader has everything, and on a closed stream's end streamClosed (then the response
 * ends). Non-text streams are sent as base64, one self-contained string per data event. The response ends after
 * sseMaxMs (clients reconnect from their offset, and caches can collapse them), at shutdown, or on an error.
 */
export async function serveSse(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  ctx: AppContext,
  deps: StreamsDeps,
  state: StreamState,
  from: number,
  clientCursor: string | null,
): Promise<void> {
  const json = isJson(state.contentType);
  const base64 = !sseIsText(state.contentType);
  const cursor = nextCursor(clientCursor);
  res.writeHead(200, {
    ...BASE_HEADERS,
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    [H.sessionId]: state.sessionId,
    ...(base64 ? { [H.sseEncoding]: "base64" } : {}),
  });
  res.flushHeaders();

  let tail: TailIterator | null = null;
  let ended = false;
  let at = from;
  let reported: { seq: number; upToDate: boolean } | null = null;
  const end = () => {
    if (ended) return;
    ended = true;
    void tail?.return();
    res.end();
  };
  const timer = setTimeout(end, deps.options.sseMaxMs);
  const unregister = deps.live.add({
    stop: end,
    heartbeat: () => {
      if (!ended) res.write(":\n\n");
    },
  });
  res.once("close", end);

  const write = async (text: string) => {
    if (!res.write(text) && !ended) await Promise.race([once(res, "drain"), once(res, "close")]);
  };
  const control = (seq: number, upToDate: boolean, closed: boolean) => {
    reported = { seq, upToDate };
    const body = closed
      ? { streamNextOffset: formatOffset(state.offsetEpoch, seq), streamClosed: true, upToDate: true }
      : { streamNextOffset: formatOffset(state.offsetEpoch, seq), streamCursor: cursor, ...(upToDate ? { upToDate: true } : {}) };
    return `event: control\ndata:${JSON.stringify(body)}\n\n`;
  };
  /** Sends a chunk: its messages as one data event and its control event; true when the stream has ended. */
  const send = async (chunk: Chunk): Promise<boolean> => {
    let text = "";
    if (chunk.messages.length > 0) {
      const body = readBody(chunk.messages, json);
      text += `event: data\n${base64 ? `data:${body.toString("base64")}\n` : dataLines(body.toString("utf8"))}\n`;
    }
    if (chunk.messages.length > 0 || chunk.closed || !(reported?.seq === chunk.last && reported.upToDate === chunk.upToDate)) {
      text += control(chunk.last, chunk.upToDate, chunk.closed);
    }
    at = chunk.last;
    if (text) await write(text);
    return chunk.closed;
  };

  try {
    // Catch-up: pages until the reader is at the tail the stream had when the request came.
    for (;;) {
      const chunk = await catchUp(ctx, state, at);
      if (ended || (await send(chunk))) return end();
      if (chunk.upToDate || chunk.messages.length === 0) break;
    }
    // Live: whatever is appended from here on, read once per append for all readers of the session.
    tail = await streams.follow(ctx, state, at);
    for (;;) {
      if (ended) return;
      const step = await tail.next();
      if (step.done) return end();
      const events: StoredEvent[] = step.value.events;
      let rest = events;
      while (rest.length > 0) {
        const chunk = chunkOf(state, at, rest, step.value.live || events.length < PAGE_EVENTS);
        if (ended || (await send(chunk))) return end();
        rest = rest.filter((e) => e.seq > chunk.last);
      }
    }
  } catch (error) {
    deps.logger.info("stream SSE ended by an error", { code: (error as StarciteError).code ?? "internal_error" });
    end();
  } finally {
    clearTimeout(timer);
    unregister();
    res.off("close", end);
  }
}
