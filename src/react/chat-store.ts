import type { ChatStatus, FileUIPart, UIMessage } from "ai";
import { followSession, StarciteError, toStarciteError, type SessionStatus, type StarciteSession } from "@starcite/sdk";
import { ChatProjection, stopEvent, userMessageEvent } from "@starcite/sdk/ai";

export interface ChatSnapshot {
  messages: UIMessage[];
  status: ChatStatus;
  error: Error | undefined;
  /** The session's connection: `live` once caught up with the log; `reconnecting` while it is away. */
  connection: SessionStatus;
}

/** What `sendMessage` takes: `{ text }` (with optional files and metadata) or a UIMessage-like object. */
export type SendMessageInput =
  | { text: string; files?: FileUIPart[]; metadata?: unknown; messageId?: string }
  | { parts: UIMessage["parts"]; id?: string; metadata?: unknown; role?: "user" };

type Listener = () => void;
type ErrorListener = (error: Error) => void;

function newId(): string {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  return `msg_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export function toUserMessage(input: SendMessageInput): UIMessage {
  if (!input || typeof input !== "object")
    throw new StarciteError("invalid_argument", "sendMessage takes { text } or a message with parts");
  if ("parts" in input) {
    if (!Array.isArray(input.parts)) throw new StarciteError("invalid_argument", "parts must be an array");
    if (input.role !== undefined && input.role !== "user")
      throw new StarciteError("invalid_argument", "sendMessage sends user messages only");
    return {
      id: input.id ?? newId(),
      role: "user",
      parts: input.parts,
      ...(input.metadata !== undefined ? { metadata: input.metadata } : {}),
    };
  }
  if (typeof input.text !== "string") throw new StarciteError("invalid_argument", "sendMessage needs text (a string)");
  const parts: UIMessage["parts"] = [...(input.files ?? []), { type: "text", text: input.text }];
  return { id: input.messageId ?? newId(), role: "user", parts, ...(input.metadata !== undefined ? { metadata: input.metadata } : {}) };
}

/**
 * One session's chat for every hook that shows it: one event listener on the session however many
 * components (or StrictMode's double effects) subscribe, the projection applied once per event, and a
 * snapshot rebuilt only when something changed (useSyncExternalStore needs a stable one).
 */
export class ChatStore {
  readonly #session: StarciteSession;
  readonly #projection: ChatProjection;
  readonly #listeners = new Set<Listener>();
  readonly #errorListeners = new Set<ErrorListener>();
  #off: (() => void)[] = [];
  /** Sent from here, not yet back from the log: shown at once, replaced by the log's copy. */
  #pending: UIMessage[] = [];
  #localError: Error | undefined;
  /** The log's error is cleared (clearError) up to this seq. */
  #clearedAt = 0;
  /** Local edits (setMessages): hidden ids, replaced messages, messages only this tab has. */
  #hidden = new Set<string>();
  #replaced = new Map<string, UIMessage>();
  #localOnly: UIMessage[] = [];
  #snapshot: ChatSnapshot | undefined;

  constructor(session: StarciteSession) {
    this.#session = session;
    this.#projection = new ChatProjection({ onError: (error) => this.#reportError(error) });
  }

  subscribe = (listener: Listener): (() => void) => {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.#attach();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#detach();
    };
  };

  onError(listener: ErrorListener): () => void {
    this.#errorListeners.add(listener);
    return () => this.#errorListeners.delete(listener);
  }

  getSnapshot = (): ChatSnapshot => (this.#snapshot ??= this.#build());

  #attach(): void {
    const session = this.#session;
    // The whole log, also what came before the session's stored cursor; a follower added again (StrictMode,
    // a remount) starts at seq 1, and the projection skips what it has applied.
    const follower = followSession(session, {
      onEvent: (event) => {
        if (this.#projection.apply(event)) this.#changed();
      },
      onError: (error) => this.#reportError(error),
    });
    this.#off = [
      () => follower.stop(),
      session.on("status", () => this.#changed()),
      session.on("error", (error) => {
        this.#localError = error;
        this.#reportError(error);
        this.#changed();
      }),
    ];
  }

  #detach(): void {
    for (const off of this.#off) off();
    this.#off = [];
  }

  #changed(): void {
    this.#snapshot = undefined;
    for (const listener of [...this.#listeners]) listener();
  }

  #reportError(error: Error): void {
    if (this.#errorListeners.size === 0) console.error(`starcite chat ${this.#session.id}:`, error);
    for (const listener of [...this.#errorListeners]) listener(error);
  }

  #build(): ChatSnapshot {
    const p = this.#projection;
    const fromLog = p.messages;
    const inLog = new Set(fromLog.map((m) => m.id));
    this.#pending = this.#pending.filter((m) => !inLog.has(m.id));
    let messages: UIMessage[] = fromLog;
    if (this.#hidden.size > 0 || this.#replaced.size > 0 || this.#localOnly.length > 0 || this.#pending.length > 0) {
      messages = fromLog.filter((m) => !this.#hidden.has(m.id)).map((m) => this.#replaced.get(m.id) ?? m);
      messages.push(...this.#localOnly.filter((m) => !inLog.has(m.id)), ...this.#pending);
    }
    let status = p.status;
    let error: Error | undefined = this.#localError;
    if (status === "error") {
      if (p.lastSeq <= this.#clearedAt) status = "ready";
      else error ??= new Error(p.errorText);
    }
    if (this.#pending.length > 0 && status !== "streaming") status = "submitted";
    if (this.#localError && status === "ready") status = "error";
    return { messages, status, error, connection: this.#session.status };
  }

  sendMessage = async (input: SendMessageInput): Promise<void> => {
    let message: UIMessage;
    try {
      message = toUserMessage(input);
    } catch (error) {
      this.#fail(toStarciteError(error, "invalid_argument"));
      return;
    }
    this.#localError = undefined;
    this.#pending.push(message);
    this.#changed();
    try {
      await this.#session.append(userMessageEvent(message));
    } catch (error) {
      this.#pending = this.#pending.filter((m) => m !== message);
      this.#fail(toStarciteError(error));
    }
  };

  /** Asks the agent to stop the open turn (or the one about to start); the stop is an event every tab and the agent see. */
  stop = async (): Promise<void> => {
    const { status } = this.getSnapshot();
    if (status !== "submitted" && status !== "streaming") return;
    const active = this.#projection.activeTurn;
    try {
      await this.#session.append(stopEvent(active && !active.stopped ? active.messageId : undefined));
    } catch (error) {
      this.#fail(toStarciteError(error));
    }
  };

  clearError = (): void => {
    this.#localError = undefined;
    this.#clearedAt = this.#projection.lastSeq;
    this.#changed();
  };

  /** Local only (the log keeps everything): hides, replaces or adds messages in this tab's view. */
  setMessages = (next: UIMessage[] | ((messages: UIMessage[]) => UIMessage[])): void => {
    const current = this.getSnapshot().messages;
    const list = typeof next === "function" ? next(current) : next;
    const byId = new Map(current.map((m) => [m.id, m]));
    const keep = new Set(list.map((m) => m.id));
    for (const m of current) if (!keep.has(m.id)) this.#hidden.add(m.id);
    const logIds = new Set(this.#projection.messages.map((m) => m.id));
    this.#localOnly = [];
    for (const m of list) {
      this.#hidden.delete(m.id);
      if (!logIds.has(m.id)) this.#localOnly.push(m);
      else if (byId.get(m.id) !== m) this.#replaced.set(m.id, m);
    }
    this.#changed();
  };

  #fail(error: Error): void {
    this.#localError = error;
    this.#reportError(error);
    this.#changed();
  }
}

const stores = new WeakMap<StarciteSession, ChatStore>();

export function chatStore(session: StarciteSession): ChatStore {
  let store = stores.get(session);
  if (!store) {
    store = new ChatStore(session);
    stores.set(session, store);
  }
  return store;
}
