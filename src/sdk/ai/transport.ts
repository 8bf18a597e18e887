import type { ChatTransport, UIMessage, UIMessageChunk } from "ai";
import { StarciteError } from "../errors.ts";
import { followSession, type Follower } from "../follow.ts";
import type { StarciteEvent } from "../protocol.ts";
import type { StarciteSession } from "../session.ts";
import { CHAT_ASSISTANT_CHUNK, CHAT_USER_MESSAGE, stopEvent, userMessageEvent } from "./envelopes.ts";
import { ChatProjection } from "./projection.ts";

/** One chunk of the log with the turn it belongs to. */
interface ChunkRecord {
  seq: number;
  owner: string;
  chunk: UIMessageChunk;
}

/**
 * The session's chat as the transport sees it: one event listener for the transport's life, every
 * valid chunk recorded with its turn, so a stream can start at any turn's `start` and continue live.
 */
class ChatLog {
  readonly projection = new ChatProjection();
  readonly records: ChunkRecord[] = [];
  readonly userSeqs = new Map<string, number>();
  readonly watchers = new Set<(record: ChunkRecord) => void>();
  readonly #follower: Follower;
  readonly #session: StarciteSession;
  #caughtUp: (() => void)[] = [];

  constructor(session: StarciteSession) {
    this.#session = session;
    this.#follower = followSession(session, {
      onEvent: (event) => this.#apply(event),
      onCaughtUp: () => {
        for (const resolve of this.#caughtUp.splice(0)) resolve();
      },
    });
  }

  /** Resolves once the whole log up to the session's catch-up point has been applied. */
  caughtUp(): Promise<void> {
    if (this.#follower.caughtUp) return Promise.resolve();
    const { status, error } = this.#session;
    if (status === "failed" || status === "closed") return Promise.reject(error ?? new StarciteError("closed", "the session is closed"));
    return new Promise((resolve) => this.#caughtUp.push(resolve));
  }

  #apply(event: StarciteEvent): void {
    if (event.type === CHAT_USER_MESSAGE) {
      const id = (event.payload.message as { id?: unknown } | undefined)?.id;
      if (typeof id === "string" && !this.userSeqs.has(id)) this.userSeqs.set(id, event.seq);
    }
    let owner: string | undefined;
    if (event.type === CHAT_ASSISTANT_CHUNK) {
      const payload = event.payload as { messageId?: unknown; chunk?: { type?: unknown; messageId?: unknown } };
      owner =
        typeof payload.messageId === "string"
          ? payload.messageId
          : payload.chunk?.type === "start"
            ? typeof payload.chunk.messageId === "string"
              ? payload.chunk.messageId
              : `msg-${event.seq}`
            : this.projection.activeTurn?.messageId;
    }
    const version = this.projection.version;
    this.projection.apply(event);
    // Only chunks the projection accepted are replayed: a reader never sees what the chat does not show.
    if (owner === undefined || this.projection.version === version) return;
    const record: ChunkRecord = { seq: event.seq, owner, chunk: (event.payload as { chunk: UIMessageChunk }).chunk };
    if (record.chunk.type === "start") record.chunk = { ...record.chunk, messageId: owner };
    this.records.push(record);
    for (const watch of [...this.watchers]) watch(record);
  }

  /** The chunks of the first turn whose `start` satisfies `isStart`, from that start to its end, then done. */
  turn(
    isStart: (record: ChunkRecord) => boolean,
    onTarget?: (messageId: string) => void,
    abortSignal?: AbortSignal,
  ): ReadableStream<UIMessageChunk> {
    let target: string | undefined;
    let watcher: ((record: ChunkRecord) => void) | undefined;
    const stopWatching = () => {
      if (watcher) this.watchers.delete(watcher);
    };
    return new ReadableStream<UIMessageChunk>({
      start: (controller) => {
        let done = false;
        const take = (record: ChunkRecord) => {
          if (done) return;
          if (target === undefined) {
            if (record.chunk.type !== "start" || !isStart(record)) return;
            target = record.owner;
            onTarget?.(target);
          }
          if (record.owner !== target) return;
          controller.enqueue(record.chunk);
          if (record.chunk.type === "finish" || record.chunk.type === "abort") {
            done = true;
            stopWatching();
            controller.close();
          }
        };
        for (const record of this.records) take(record);
        if (done) return;
        watcher = take;
        this.watchers.add(watcher);
        abortSignal?.addEventListener(
          "abort",
          () => {
            if (done) return;
            done = true;
            stopWatching();
            controller.error(abortSignal.reason);
          },
          { once: true },
        );
      },
      cancel: stopWatching,
    });
  }
}

const logs = new WeakMap<StarciteSession, ChatLog>();

export interface StarciteChatTransportOptions {
  session: StarciteSession;
}

/**
 * An AI SDK `ChatTransport` over a session, for apps that keep `useChat`:
 * `useChat({ id: session.id, transport: createStarciteChatTransport({ session }) })`.
 * - `sendMessages` appends the user message (`chat.user.message`) and streams the chunks of the turn
 *   that answers it, from the log; useChat's `stop()` appends `chat.user.stop`, which the agent sees.
 * - `reconnectToStream` replays the open turn from its `start` chunk and follows it live, or returns
 *   `null` when no turn is open.
 */
export function createStarciteChatTransport({ session }: StarciteChatTransportOptions): ChatTransport<UIMessage> {
  const log = () => {
    let found = logs.get(session);
    if (!found) {
      found = new ChatLog(session);
      logs.set(session, found);
    }
    return found;
  };
  const stopOnAbort = (abortSignal: AbortSignal | undefined, messageId: () => string | undefined) => {
    abortSignal?.addEventListener("abort", () => void session.append(stopEvent(messageId())).catch(() => {}), { once: true });
  };
  return {
    resumeStreamIsReplay: true,
    async sendMessages({ trigger, messages, abortSignal }) {
      if (trigger !== "submit-message") {
        throw new StarciteError(
          "invalid_argument",
          "the starcite chat transport appends new user messages only (no regenerate: the log keeps every answer)",
        );
      }
      const message = messages.at(-1);
      if (!message || message.role !== "user") throw new StarciteError("invalid_argument", "sendMessages needs a user message last");
      const chat = log();
      let messageId: string | undefined;
      const stream = chat.turn(
        (record) => {
          const userSeq = chat.userSeqs.get(message.id);
          return userSeq !== undefined && record.seq > userSeq;
        },
        (id) => (messageId = id),
        abortSignal,
      );
      stopOnAbort(abortSignal, () => messageId);
      await session.append(userMessageEvent(message));
      return stream;
    },
    async reconnectToStream({ abortSignal }) {
      const chat = log();
      await chat.caughtUp();
      const active = chat.projection.activeTurn;
      if (!active || active.stopped) return null;
      stopOnAbort(abortSignal, () => active.messageId);
      return chat.turn((record) => record.seq === active.startSeq, undefined, abortSignal);
    },
  };
}
