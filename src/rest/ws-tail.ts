import type http from "node:http";
import type WebSocket from "ws";
import { clientAddress } from "../auth/limiter.ts";
import { StarciteError } from "../db/errors.ts";
import type { TailIterator } from "../live/tail-iterator.ts";
import type { RestDeps } from "./deps.ts";
import { asStarciteError, closeCodeOf, closeReason } from "./errors.ts";
import { MISSED_PONGS_LIMIT, pump, type Frame, type TailSink } from "./streams.ts";
import { openTail, parseTailRequest, tailCredential } from "./tail-request.ts";

/**
 * The plain-WebSocket tail: no subprotocol, one text frame per event (or per `batch_size` events), a
 * `caught_up` control frame at the catch-up point, pings as heartbeats, and errors as close codes with
 * the reason "<code>: <message>".
 */
export async function serveWsTail(
  ws: WebSocket,
  req: http.IncomingMessage,
  sessionId: string,
  query: URLSearchParams,
  deps: RestDeps,
): Promise<void> {
  let ended = false;
  let missedPongs = 0;
  let tail: TailIterator | undefined;
  ws.on("pong", () => void (missedPongs = 0));
  // A tail's client has nothing to say; what it sends is ignored.
  ws.on("message", () => {});
  ws.on("error", () => {});

  const sink: TailSink = {
    get closed() {
      return ended || ws.readyState !== ws.OPEN;
    },
    write(frames: readonly Frame[]) {
      return new Promise<void>((resolve) => {
        if (frames.length === 0 || this.closed) return resolve();
        frames.forEach((f, i) => ws.send(f.text, i === frames.length - 1 ? () => resolve() : undefined));
      });
    },
    end(error: StarciteError | null) {
      if (ended) return;
      ended = true;
      unregister();
      void tail?.return();
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) {
        if (error) ws.close(closeCodeOf(error.code), closeReason(error));
        else ws.close(1000, "");
      }
    },
  };
  const unregister = deps.streams.add({
    heartbeat() {
      if (missedPongs >= MISSED_PONGS_LIMIT) {
        ws.terminate();
        return;
      }
      missedPongs++;
      ws.ping();
    },
    stop: (error) => sink.end(error),
    bufferedBytes: () => ws.bufferedAmount,
  });

  ws.once("close", () => sink.end(null));
  let request;
  try {
    request = parseTailRequest(query);
    const auth = await deps.authenticator.state(tailCredential(req, query), { client: clientAddress(req) });
    tail = await openTail({ ...deps, auth }, deps, sessionId, request);
  } catch (error) {
    sink.end(asStarciteError(error, deps.logger));
    return;
  }
  if (sink.closed) {
    sink.end(null);
    await tail.return();
    return;
  }
  await pump(tail, sink, request.batchSize, deps.logger);
}
