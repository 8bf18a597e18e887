import type { UIMessageChunk } from "ai";
import { StarciteError, toStarciteError } from "../errors.ts";
import type { AppendResult } from "../protocol.ts";
import type { Producer, StarciteSession } from "../session.ts";
import { assistantChunkEvent, CHAT_USER_STOP } from "./envelopes.ts";

export interface AppendUIMessageStreamOptions {
  /** The assistant message this stream writes; its `start` chunk gets this id. */
  messageId: string;
  /** Ends the turn early (see `watchStop`): reading stops, the stream is cancelled, an `abort` chunk is appended. */
  signal?: AbortSignal;
  /**
   * Default `<actor>/chat/<messageId>`: derived from the message, so a retried agent re-sends the same
   * (producerId, producerSeq) pairs and the server dedups every chunk it already has.
   */
  producerId?: string;
  /** Least time between two append requests (default 20 ms); chunks arriving meanwhile share one request. */
  lingerMs?: number;
}

export interface AppendUIMessageStreamResult {
  messageId: string;
  /** Chunk events written (including a `start`, `finish` or `abort` added here). */
  chunks: number;
  /** How many of them the log had already (a retried turn). */
  deduped: number;
  /** The turn ended with `abort`. */
  aborted: boolean;
  /** The stream failed: this text went into an `error` chunk. */
  errorText: string | undefined;
}

const END = new Set(["finish", "abort"]);

/**
 * Writes an AI SDK UI message stream (`result.toUIMessageStream()`) into the session, one
 * `chat.assistant.chunk` event per chunk, through an outbox of its own: ordered, retried, deduplicated,
 * and batched (`lingerMs`). The turn always begins with `start` (carrying `messageId`) and always ends:
 * with the stream's own `finish`, with `abort` when `signal` fires (the partial answer stays), or with
 * `error` + `finish` when the stream throws. Resolves once every chunk is in the log.
 */
export async function appendUIMessageStream(
  session: StarciteSession,
  stream: ReadableStream<UIMessageChunk>,
  options: AppendUIMessageStreamOptions,
): Promise<AppendUIMessageStreamResult> {
  const { messageId, signal } = options;
  const writer = new ChunkWriter(session, messageId, options);
  const reader = stream.getReader();
  const cancel = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", cancel, { once: true });
  let started = false;
  let ended: string | undefined;
  let errorText: string | undefined;
  try {
    while (!signal?.aborted) {
      let next: ReadableStreamReadResult<UIMessageChunk>;
      try {
        next = await reader.read();
      } catch (error) {
        if (!signal?.aborted) errorText = error instanceof Error ? error.message : String(error);
        break;
      }
      if (next.done || signal?.aborted) break;
      let chunk = next.value;
      if (chunk.type === "start") {
        if (started) continue;
        chunk = { ...chunk, messageId };
      } else if (!started) {
        writer.write({ type: "start", messageId });
      }
      started = true;
      writer.write(chunk);
      if (END.has(chunk.type)) {
        ended = chunk.type;
        cancel();
        break;
      }
    }
  } finally {
    signal?.removeEventListener("abort", cancel);
  }
  if (!started) writer.write({ type: "start", messageId });
  if (!ended) {
    if (signal?.aborted) {
      cancel();
      writer.write({ type: "abort" });
      ended = "abort";
    } else {
      if (errorText !== undefined) writer.write({ type: "error", errorText });
      writer.write({ type: "finish" });
    }
  }
  const { chunks, deduped } = await writer.settle();
  return { messageId, chunks, deduped, aborted: ended === "abort", errorText };
}

/**
 * The chunk events of one assistant turn, written through a producer of their own whose id is derived
 * from the message (so a retried writer's events dedup). `settle()` waits for all of them and throws
 * the first refusal.
 */
export class ChunkWriter {
  readonly #producer: Producer;
  readonly #messageId: string;
  readonly #writes: Promise<AppendResult>[] = [];

  constructor(session: StarciteSession, messageId: string, options: { producerId?: string; lingerMs?: number } = {}) {
    if (typeof messageId !== "string" || messageId === "") throw new StarciteError("invalid_argument", "a chat turn needs a messageId");
    this.#messageId = messageId;
    this.#producer = session.producer({
      producerId: options.producerId ?? `${session.identity ? `${session.identity.actor}/` : ""}chat/${messageId}`,
      lingerMs: options.lingerMs ?? 20,
    });
  }

  write(chunk: UIMessageChunk): void {
    const written = this.#producer.append(assistantChunkEvent(chunk, this.#messageId));
    written.catch(() => {}); // reported by settle()
    this.#writes.push(written);
  }

  async settle(): Promise<{ chunks: number; deduped: number }> {
    const settled = await Promise.allSettled(this.#writes);
    this.#producer.close();
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw toStarciteError(failed.reason);
    return { chunks: settled.length, deduped: settled.filter((r) => r.status === "fulfilled" && r.value.deduped).length };
  }
}

export interface StopWatch {
  /** Aborts when the user stops this turn. */
  readonly signal: AbortSignal;
  /** Stops watching (call when the turn is over). */
  dispose(): void;
}

/**
 * An AbortSignal that fires when a `chat.user.stop` for this turn is in the log: one naming
 * `messageId`, or one naming no message that came after `since` (the seq of the user message the turn
 * answers: a stop sent before the answer started). Stops are events, so an agent that restarts still
 * sees a stop sent while it was down; and a stop is never confused with a reader disconnecting.
 */
export function watchStop(session: StarciteSession, { messageId, since }: { messageId: string; since: number }): StopWatch {
  const controller = new AbortController();
  const off = session.on("event", (event) => {
    if (event.type !== CHAT_USER_STOP || event.seq <= since) return;
    const named = event.payload.messageId;
    if (named !== undefined && named !== messageId) return;
    off();
    // An AbortError, as fetch and the AI SDK expect from a cancelled call.
    controller.abort(new DOMException(`stopped by ${event.actor ?? "a user"} (event ${event.seq})`, "AbortError"));
  });
  return { signal: controller.signal, dispose: off };
}
