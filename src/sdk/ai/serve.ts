import type { UIMessage, UIMessageChunk } from "ai";
import { toStarciteError, type StarciteError } from "../errors.ts";
import { followSession } from "../follow.ts";
import type { StarciteSession } from "../session.ts";
import { ChatProjection } from "./projection.ts";
import { appendUIMessageStream, watchStop, type AppendUIMessageStreamResult } from "./stream.ts";

export interface ChatTurn {
  /** The conversation so far, ending with the user message to answer. */
  messages: UIMessage[];
  /** The id of the assistant message to write (derived from the user message's id). */
  messageId: string;
  /** Fires when the user stops this turn: pass it to the model call (`streamText({ abortSignal })`). */
  signal: AbortSignal;
}

export interface ServeChatOptions {
  /** A turn failed to write, or the log holds an event that is not a valid chat event. */
  onError?: (error: StarciteError) => void;
  /** After each turn is in the log. */
  onTurn?: (result: AppendUIMessageStreamResult) => void;
  /** Passed to appendUIMessageStream (default 20 ms). */
  lingerMs?: number;
}

/**
 * The agent side of a chat session: whenever the log holds a user message that nothing answers yet,
 * calls `respond` with the conversation and writes the stream it returns (`appendUIMessageStream`),
 * ending it early when the user stops the turn. Acts only once caught up with the log, so a restarted
 * agent answers what arrived while it was down and never re-answers what is answered. Returns a
 * function that stops serving. One agent per session.
 */
export function serveChat(
  session: StarciteSession,
  respond: (turn: ChatTurn) => ReadableStream<UIMessageChunk> | Promise<ReadableStream<UIMessageChunk>>,
  options: ServeChatOptions = {},
): () => void {
  const projection = new ChatProjection({ onError: (error) => options.onError?.(error) });
  const answered = new Set<number>();
  let stopped = false;

  const check = () => {
    const waiting = projection.awaiting;
    if (stopped || !waiting || answered.has(waiting.seq) || !follower.caughtUp) return;
    answered.add(waiting.seq);
    const messageId = `${waiting.messageId}-reply`;
    const stop = watchStop(session, { messageId, since: waiting.seq });
    const messages = projection.messages;
    void (async () => {
      try {
        let stream: ReadableStream<UIMessageChunk>;
        try {
          stream = await respond({ messages, messageId, signal: stop.signal });
        } catch (error) {
          stream = new ReadableStream({ start: (c) => c.error(error) });
        }
        const result = await appendUIMessageStream(session, stream, {
          messageId,
          signal: stop.signal,
          ...(options.lingerMs !== undefined ? { lingerMs: options.lingerMs } : {}),
        });
        options.onTurn?.(result);
      } catch (error) {
        if (!stopped) options.onError?.(toStarciteError(error));
      } finally {
        stop.dispose();
      }
    })();
  };

  const follower = followSession(session, {
    onEvent: (event) => {
      projection.apply(event);
      check();
    },
    onCaughtUp: check,
    onError: (error) => options.onError?.(error),
  });
  return () => {
    stopped = true;
    follower.stop();
  };
}
