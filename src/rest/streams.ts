import { WebSocketServer } from "ws";
import type { TailCaughtUp } from "@starcite/sdk/protocol";
import { StarciteError } from "../db/errors.ts";
import type { StoredEvent } from "../db/types.ts";
import type { TailIterator } from "../live/tail-iterator.ts";
import { Heartbeats } from "../shared/heartbeats.ts";
import type { Logger } from "../shared/logger.ts";
import { asStarciteError } from "./errors.ts";
import { eventText } from "./wire.ts";

/** How often open tails get a heartbeat (WebSocket ping / SSE comment) unless configured otherwise. */
export const DEFAULT_HEARTBEAT_MS = 15_000;
/** A WebSocket peer that answers none of this many pings in a row is cut. */
export const MISSED_PONGS_LIMIT = 3;
/** Largest message a client may send on a tail WebSocket (it has nothing to say; ws closes with 1009 beyond). */
const MAX_CLIENT_MESSAGE_BYTES = 4096;
/** `batch_size` bounds (events per frame). */
export const MAX_BATCH_SIZE = 1000;

/** One frame of a tail: an event, an array of events, or the control frame. `seq`: the last event's seq. */
export interface Frame {
  text: string;
  seq?: number;
  control?: true;
}

/** Where a tail's frames go: a WebSocket or an SSE response. */
export interface TailSink {
  /** Resolves once the frames are handed to the socket, so a reader that stops reading holds at most one batch here. */
  write(frames: readonly Frame[]): Promise<void>;
  /** Ends the stream, with the error that ended it (null: the client went away). Idempotent. */
  end(error: StarciteError | null): void;
  readonly closed: boolean;
}

/** An open tail stream as the registry sees it. */
export interface OpenStream {
  heartbeat(): void;
  stop(error: StarciteError): void;
  bufferedBytes(): number;
}

export function eventFrames(events: readonly StoredEvent[], batchSize: number | undefined): Frame[] {
  if (batchSize === undefined) return events.map((e) => ({ text: eventText(e), seq: e.seq }));
  const frames: Frame[] = [];
  for (let i = 0; i < events.length; i += batchSize) {
    const chunk = events.slice(i, i + batchSize);
    frames.push({ text: `[${chunk.map(eventText).join(",")}]`, seq: chunk[chunk.length - 1]!.seq });
  }
  return frames;
}

export function caughtUpFrame(cursor: number): Frame {
  const body: TailCaughtUp = { control: "caught_up", cursor };
  return { text: JSON.stringify(body), control: true };
}

/**
 * Moves a tail into a sink: replay, the caught-up control frame, then live, pulling the next batch only
 * after the previous one was written. Ends the sink with the error that ended the tail.
 */
export async function pump(tail: TailIterator, sink: TailSink, batchSize: number | undefined, logger: Logger): Promise<void> {
  let caughtUp = false;
  try {
    for (;;) {
      const step = await tail.next();
      if (step.done || sink.closed) break;
      const frames = eventFrames(step.value.events, batchSize);
      if (step.value.live && !caughtUp) {
        caughtUp = true;
        frames.push(caughtUpFrame(step.value.cursor));
      }
      if (frames.length > 0) await sink.write(frames);
    }
    sink.end(null);
  } catch (error) {
    sink.end(asStarciteError(error, logger));
  } finally {
    await tail.return();
  }
}

export interface TailStreamsOptions {
  heartbeatMs?: number;
}

/**
 * The server's open REST tails (plain WebSocket and SSE): their WebSocketServer, their heartbeats (one timer,
 * spread over the interval: src/shared/heartbeats.ts), and closing them all on shutdown.
 */
export class TailStreams {
  readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES });
  readonly heartbeatMs: number;
  readonly #open = new Set<OpenStream>();
  readonly #heartbeats: Heartbeats;

  constructor(options: TailStreamsOptions = {}) {
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.#heartbeats = new Heartbeats(this.heartbeatMs);
  }

  add(stream: OpenStream): () => void {
    this.#open.add(stream);
    const stopBeating = this.#heartbeats.add({ beat: () => stream.heartbeat() });
    return () => {
      this.#open.delete(stream);
      stopBeating();
    };
  }

  /** Bytes queued in userland per open stream (backpressure introspection). */
  bufferedBytes(): number[] {
    return [...this.#open].map((s) => s.bufferedBytes());
  }

  /** Shutdown: WebSockets close with 1001, SSE streams end after a `tail_error` event; both say `shutting_down`. */
  closeAll(): void {
    const error = new StarciteError("shutting_down", "the server is shutting down; resume from your cursor");
    for (const s of [...this.#open]) s.stop(error);
    this.#heartbeats.stop();
  }
}
