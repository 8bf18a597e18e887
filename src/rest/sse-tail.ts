import type http from "node:http";
import type { AppContext } from "../app/context.ts";
import type { StarciteError } from "../db/errors.ts";
import type { TailIterator } from "../live/tail-iterator.ts";
import type { RestDeps } from "./deps.ts";
import { errorBody } from "./errors.ts";
import { pump, type Frame, type TailSink } from "./streams.ts";
import { openTail, parseTailRequest } from "./tail-request.ts";

/** Keep-alive comments are skipped while this much is already queued for a reader. */
const HEARTBEAT_SKIP_BYTES = 64 * 1024;

function sseFrame(f: Frame): string {
  if (f.control) return `event: caught_up\ndata: ${f.text}\n\n`;
  return `id: ${f.seq}\ndata: ${f.text}\n\n`;
}

/**
 * The SSE tail, for EventSource: `id:` is the seq (so `Last-Event-ID` resumes), events are default
 * `message` events, `caught_up` marks the catch-up point, comments keep proxies from closing it, and an
 * error that ends the stream is sent as a `tail_error` event first. Errors before the stream starts are
 * ordinary JSON error responses (EventSource does not retry those).
 */
export async function serveSseTail(
  ctx: AppContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  sessionId: string,
  query: URLSearchParams,
  deps: RestDeps,
): Promise<void> {
  const request = parseTailRequest(query, req.headers["last-event-id"]);
  const tail: TailIterator = await openTail(ctx, deps, sessionId, request);

  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    "x-accel-buffering": "no",
  });
  res.write(`: tail of ${sessionId} after seq ${request.cursor}\n\n`);

  let ended = false;
  const waitDrain = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        res.off("drain", done);
        res.off("close", done);
        resolve();
      };
      res.on("drain", done);
      res.on("close", done);
    });
  const sink: TailSink = {
    get closed() {
      return ended || res.destroyed || res.writableEnded;
    },
    async write(frames: readonly Frame[]) {
      if (this.closed) return;
      const ok = res.write(frames.map(sseFrame).join(""));
      if (!ok && !this.closed) await waitDrain();
    },
    end(error: StarciteError | null) {
      if (ended) return;
      ended = true;
      unregister();
      void tail.return();
      if (res.writableEnded || res.destroyed) return;
      if (error) res.write(`event: tail_error\ndata: ${JSON.stringify(errorBody(error))}\n\n`);
      res.end();
    },
  };
  const unregister = deps.streams.add({
    heartbeat() {
      if (!sink.closed && res.writableLength < HEARTBEAT_SKIP_BYTES) res.write(": keep-alive\n\n");
    },
    stop: (error) => sink.end(error),
    bufferedBytes: () => res.writableLength,
  });
  res.once("close", () => sink.end(null));
  await pump(tail, sink, request.batchSize, deps.logger);
}
