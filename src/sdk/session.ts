import { resolveRetry, type RetryOptions } from "./backoff.ts";
import type { CursorStore } from "./cursor-store.ts";
import { isStarciteError, StarciteError, toStarciteError } from "./errors.ts";
import { Outbox } from "./outbox.ts";
import { APPEND, APPEND_BATCH, READ_EVENTS } from "./queries.ts";
import { TailStream, type CredentialProvider, type Phase, type TailStatus } from "./tail-stream.ts";
import type { GraphQLHttp } from "./transport.ts";
import type { AppendEventInput, AppendResult, EventPage, JsonObject, JsonValue, PrincipalType, StarciteEvent } from "./protocol.ts";

/** Events a session handle keeps by default (see `retainEvents`). */
export const DEFAULT_RETAIN_EVENTS = 1000;

/** Who a session speaks for: a user or an agent. Its appends get actor "<type>:<id>". */
export interface Identity {
  readonly type: PrincipalType;
  readonly id: string;
  /** "<type>:<id>", e.g. "agent:drafter". */
  readonly actor: string;
}

export function makeIdentity(type: PrincipalType, id: string): Identity {
  if (typeof id !== "string" || id === "") throw new StarciteError("invalid_argument", `${type} id must be a non-empty string`);
  return Object.freeze({ type, id, actor: `${type}:${id}` });
}

/** What `session.append()` takes: `{ text }` is short for `{ type: "content", payload: { text } }`. */
export interface SessionAppendInput {
  text?: string;
  /** Default "content". */
  type?: string;
  /** A JSON object; with `text`, `text` is added to it. */
  payload?: JsonObject;
  /** Only for sessions acting with an API key; a session token always appends as its own principal. */
  actor?: string;
  source?: string;
  metadata?: JsonObject;
  refs?: JsonValue;
  idempotencyKey?: string;
  /** Append only if the session's last seq equals this (`expected_seq_conflict` otherwise). */
  expectedSeq?: number;
}

/** What `session.producer()` takes. */
export interface ProducerOptions {
  /**
   * Stable across restarts for the same stream of events (e.g. derived from the message it writes), so a
   * retry after a crash re-sends the same (producerId, producerSeq) pairs and the server dedups them.
   */
  producerId: string;
  /** producerSeq of this producer's first event (default 1). */
  firstProducerSeq?: number;
  /** Least time between two requests (default 0): events queued meanwhile share one `appendBatch`. */
  lingerMs?: number;
}

/** An extra append queue on a session, with its own producer id (see `session.producer()`). */
export interface Producer {
  readonly producerId: string;
  /** Events queued or in flight. */
  readonly pending: number;
  append(input: SessionAppendInput): Promise<AppendResult>;
  /** Resolves once every append issued so far has been confirmed (or has failed). */
  flush(): Promise<void>;
  /** Rejects what is still queued with `closed`. */
  close(): void;
}

export interface EventContext {
  phase: Phase;
}

export interface StatusDetail {
  error?: StarciteError;
  retryInMs?: number;
}

export interface SessionEvents {
  /** Every event once, in seq order: history first (phase "replay"), then live. */
  event: (event: StarciteEvent, context: EventContext) => void;
  /** A fatal problem with the stream (forbidden, session gone, bad credential): the stream has stopped. */
  error: (error: StarciteError) => void;
  /** Connection state changes, e.g. "reconnecting" with the error and the backoff. */
  status: (status: SessionStatus, detail: StatusDetail) => void;
}

export type SessionStatus = TailStatus;

export interface SessionState {
  id: string;
  status: SessionStatus;
  /** Seq of the last event received (0 before any). */
  cursor: number;
  /** The newest events received (at most `retainEvents`), in seq order. */
  events: StarciteEvent[];
  /** Appends not yet confirmed by the server. */
  pendingAppends: number;
  /** The fatal error that stopped the stream, if any. */
  error: StarciteError | undefined;
}

/** Everything a session needs from its Starcite client. */
export interface SessionConfig {
  id: string;
  identity: Identity | undefined;
  http: GraphQLHttp;
  wsUrl: string;
  credential: CredentialProvider;
  webSocketImpl: unknown;
  cursorStore: CursorStore;
  cursorKey: string;
  /** Start the tail after this seq instead of the stored cursor. */
  cursor: number | undefined;
  producerId: string;
  appendRetry: RetryOptions | undefined;
  reconnect: RetryOptions | undefined;
  maxBatchSize: number | undefined;
  keepAliveMs: number | undefined;
  /** Newest events kept for events(), state() and late listeners (default 1000). */
  retainEvents?: number | undefined;
}

interface Listener<K extends keyof SessionEvents> {
  fn: SessionEvents[K];
  /** Highest seq this listener has been given ("event" listeners only). */
  upTo: number;
  /** False until a late listener has been given the history it missed. */
  ready: boolean;
}

function report(error: unknown): void {
  const reportError = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (reportError) reportError(error);
  else console.error("starcite: a session listener threw", error);
}

/**
 * One session as seen by one identity. `append()` goes through an outbox (stable producer id,
 * increasing producer seq, retries that the server dedups, order kept); `on("event")` starts a tail
 * that replays history, then follows live, reconnecting from the last seen seq.
 */
export class StarciteSession {
  readonly id: string;
  readonly identity: Identity | undefined;
  readonly #c: SessionConfig;
  readonly #outbox: Outbox;
  readonly #abort = new AbortController();
  readonly #listeners: { [K in keyof SessionEvents]: Set<Listener<K>> } = { event: new Set(), error: new Set(), status: new Set() };
  /** The newest events, at most #retain of them (older ones are paged from the server when a late listener needs them). */
  #events: StarciteEvent[] = [];
  readonly #retain: number;
  #cursor = 0;
  /** The cursor the tail started from: a late listener's history begins after it. */
  #origin = 0;
  #tail: TailStream | undefined;
  #tailStarting = false;
  #status: SessionStatus = "idle";
  #error: StarciteError | undefined;
  #closed = false;
  readonly #producers = new Set<Outbox>();

  constructor(config: SessionConfig) {
    this.#c = config;
    this.id = config.id;
    this.identity = config.identity;
    const retain = config.retainEvents ?? DEFAULT_RETAIN_EVENTS;
    if (!(retain >= 0)) throw new StarciteError("invalid_argument", "retainEvents must be >= 0");
    this.#retain = retain;
    this.#outbox = new Outbox({
      producerId: config.producerId,
      retry: resolveRetry(config.appendRetry, 30),
      ...(config.maxBatchSize !== undefined ? { maxBatchSize: config.maxBatchSize } : {}),
      send: (events) => this.#sendEvents(events),
    });
  }

  /** The tail's state (as in `state().status`, without copying the events). */
  get status(): SessionStatus {
    return this.#status;
  }

  /** The fatal error that stopped the stream, if any (as in `state().error`). */
  get error(): StarciteError | undefined {
    return this.#error;
  }

  /** Seq of the last event received (as in `state().cursor`). */
  get cursor(): number {
    return this.#cursor;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The producer id this session's appends carry (stable for the session object's life). */
  get producerId(): string {
    return this.#outbox.producerId;
  }

  /**
   * Appends one event and resolves with its seq once the server has it (`deduped` is true when a retry
   * found it already written). Rejects with a StarciteError carrying the server's code when the event is
   * refused (e.g. `invalid_event`, `forbidden_actor`, `expected_seq_conflict`) or retries run out.
   */
  append(input: SessionAppendInput): Promise<AppendResult> {
    return this.#enqueue(this.#outbox, input);
  }

  #enqueue(outbox: Outbox, input: SessionAppendInput): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new StarciteError("closed", "the session is closed"));
    let event: Omit<AppendEventInput, "producerId" | "producerSeq">;
    try {
      event = toAppendInput(input);
    } catch (error) {
      return Promise.reject(error);
    }
    // The token already pins the actor; saying it too keeps it on servers running without auth.
    if (event.actor === undefined && this.identity) event.actor = this.identity.actor;
    return outbox.enqueue(event);
  }

  /**
   * Another append queue on this session with its own producer id: ordered, retried and deduplicated
   * like `append()`, independent of the session's own queue. A producer id derived from what it writes
   * (an agent turn's message id) makes a crashed-and-retried writer's events dedup instead of doubling.
   * Two live producers must not share an id.
   */
  producer(options: ProducerOptions): Producer {
    if (!options || typeof options.producerId !== "string" || options.producerId === "") {
      throw new StarciteError("invalid_argument", "producer({ producerId }) needs a non-empty producerId");
    }
    const outbox = new Outbox({
      producerId: options.producerId,
      retry: resolveRetry(this.#c.appendRetry, 30),
      ...(options.firstProducerSeq !== undefined ? { firstProducerSeq: options.firstProducerSeq } : {}),
      ...(options.lingerMs !== undefined ? { lingerMs: options.lingerMs } : {}),
      ...(this.#c.maxBatchSize !== undefined ? { maxBatchSize: this.#c.maxBatchSize } : {}),
      send: (events) => this.#sendEvents(events),
    });
    if (this.#closed) outbox.close();
    else this.#producers.add(outbox);
    return {
      producerId: outbox.producerId,
      get pending() {
        return outbox.pending;
      },
      append: (input) => this.#enqueue(outbox, input),
      flush: () => outbox.flush(),
      close: () => {
        outbox.close();
        this.#producers.delete(outbox);
      },
    };
  }

  /** Resolves once every append issued so far has been confirmed (or has failed). */
  flush(): Promise<void> {
    return this.#outbox.flush();
  }

  on<K extends keyof SessionEvents>(name: K, fn: SessionEvents[K]): () => void {
    if (this.#closed) return () => {};
    const listener: Listener<K> = { fn, upTo: this.#origin, ready: name !== "event" || this.#cursor === this.#origin };
    (this.#listeners[name] as Set<Listener<K>>).add(listener);
    if (name === "event") {
      if (!listener.ready) queueMicrotask(() => void this.#catchUp(listener as unknown as Listener<"event">));
      this.subscribe();
    }
    return () => this.off(name, fn);
  }

  off<K extends keyof SessionEvents>(name: K, fn: SessionEvents[K]): void {
    const set = this.#listeners[name] as Set<Listener<K>>;
    for (const l of set) if (l.fn === fn) set.delete(l);
  }

  /** Starts the tail (done by the first `on("event")`); idempotent. */
  subscribe(): this {
    if (this.#closed || this.#tail || this.#tailStarting) return this;
    this.#tailStarting = true;
    void this.#startTail();
    return this;
  }

  /**
   * One page of the session's log over HTTP with the session's own credential: events with seq > after
   * (limit 1..1000, default 100). For history before the tail's cursor; `on("event")` is the live path.
   */
  async readEvents({ after = 0, limit = 100 }: { after?: number; limit?: number } = {}): Promise<EventPage> {
    try {
      return (await this.#request<{ events: EventPage }>(READ_EVENTS, { sessionId: this.id, after, limit })).events;
    } catch (error) {
      throw toStarciteError(error);
    }
  }

  /** The newest events received (at most `retainEvents`), in seq order (a copy). */
  events(): StarciteEvent[] {
    return this.#events.slice(-this.#retain || this.#events.length);
  }

  state(): SessionState {
    return {
      id: this.id,
      status: this.#status,
      cursor: this.#cursor,
      events: this.events(),
      pendingAppends: this.#outbox.pending,
      error: this.#error,
    };
  }

  /** Releases everything: the socket, retry timers, in-flight requests. Unconfirmed appends reject with `closed`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#outbox.close();
    for (const producer of this.#producers) producer.close();
    this.#producers.clear();
    this.#abort.abort();
    const tail = this.#tail;
    this.#tail = undefined;
    await tail?.stop();
    this.#setStatus("closed", {});
    for (const set of Object.values(this.#listeners)) set.clear();
  }

  async #startTail(): Promise<void> {
    let cursor = this.#c.cursor;
    if (cursor === undefined) {
      try {
        cursor = (await this.#c.cursorStore.load(this.#c.cursorKey)) ?? 0;
      } catch {
        cursor = 0;
      }
    }
    if (this.#closed) return;
    this.#cursor = cursor;
    this.#origin = cursor;
    for (const l of this.#listeners.event) if (l.upTo < cursor) l.upTo = cursor;
    const tail = new TailStream({
      url: this.#c.wsUrl,
      sessionId: this.id,
      cursor,
      credential: this.#c.credential,
      webSocketImpl: this.#c.webSocketImpl,
      retry: resolveRetry(this.#c.reconnect, Infinity),
      ...(this.#c.keepAliveMs !== undefined ? { keepAliveMs: this.#c.keepAliveMs } : {}),
      onEvents: (events, phase) => this.#receive(events, phase),
      onStatus: (status, detail) => {
        if (status !== "closed") this.#setStatus(status, detail ?? {});
      },
      onError: (error) => {
        this.#error = error;
        if (this.#listeners.error.size === 0) console.error(`starcite: session ${this.id} stopped: ${error.code}: ${error.message}`);
        this.#emit("error", (fn) => fn(error));
      },
    });
    this.#tail = tail;
    this.#tailStarting = false;
    tail.start();
  }

  #receive(events: StarciteEvent[], phase: Phase): void {
    if (this.#closed) return;
    for (const event of events) {
      if (event.seq <= this.#cursor) continue;
      this.#cursor = event.seq;
      if (this.#retain > 0) {
        this.#events.push(event);
        // Drop in chunks, so trimming costs O(1) per event on average.
        if (this.#events.length >= this.#retain + Math.max(16, this.#retain >> 3))
          this.#events.splice(0, this.#events.length - this.#retain);
      }
      for (const l of this.#listeners.event) {
        if (!l.ready || event.seq <= l.upTo) continue;
        l.upTo = event.seq;
        try {
          l.fn(event, { phase });
        } catch (error) {
          report(error);
        }
        if (this.#closed) return;
      }
    }
    try {
      const saved = this.#c.cursorStore.save(this.#c.cursorKey, this.#cursor);
      if (saved instanceof Promise) saved.catch(() => {});
    } catch {
      // resuming is best effort
    }
  }

  /**
   * A listener added after events arrived first gets those (as replay), then joins the live fan-out. What the
   * handle no longer keeps is paged from the server first, so the listener still sees every event once, in order.
   */
  async #catchUp(listener: Listener<"event">): Promise<void> {
    const live = () => this.#listeners.event.has(listener) && !this.#closed;
    const deliver = (event: StarciteEvent): boolean => {
      if (event.seq !== listener.upTo + 1) return true;
      listener.upTo = event.seq;
      try {
        listener.fn(event, { phase: "replay" });
      } catch (error) {
        report(error);
      }
      return live();
    };
    while (live() && listener.upTo < this.#cursor) {
      if (this.#retained(0) !== undefined && this.#retained(0)!.seq <= listener.upTo + 1) {
        // Synchronous to the end of what is kept: nothing can arrive in between, and the listener is live after.
        for (const event of this.#events.slice()) if (event.seq > listener.upTo && !deliver(event)) return;
        continue;
      }
      let page: EventPage;
      try {
        const data = await this.#request<{ events: EventPage }>(READ_EVENTS, { sessionId: this.id, after: listener.upTo, limit: 1000 });
        page = data.events;
      } catch (error) {
        if (!live()) return;
        const failure = toStarciteError(error);
        this.#emit("error", (fn) => fn(failure));
        return;
      }
      if (page.events.length === 0) break;
      for (const event of page.events) if (event.seq <= this.#cursor && !deliver(event)) return;
    }
    if (live()) listener.ready = true;
  }

  #retained(i: number): StarciteEvent | undefined {
    return this.#events[i];
  }

  #setStatus(status: SessionStatus, detail: StatusDetail): void {
    if (this.#status === status && !detail.error) return;
    this.#status = status;
    this.#emit("status", (fn) => fn(status, detail));
  }

  #emit<K extends keyof SessionEvents>(name: K, call: (fn: SessionEvents[K]) => void): void {
    for (const l of [...this.#listeners[name]] as Listener<K>[]) {
      try {
        call(l.fn);
      } catch (error) {
        report(error);
      }
    }
  }

  async #request<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    const credential = this.#c.credential;
    try {
      return await this.#c.http.request<T>(query, variables, await credential.get(), this.#abort.signal);
    } catch (error) {
      if (isStarciteError(error) && error.code === "token_expired" && credential.refresh && !this.#closed && (await credential.refresh())) {
        return this.#c.http.request<T>(query, variables, await credential.get(), this.#abort.signal);
      }
      throw error;
    }
  }

  /**
   * One request per flight of the outbox: over the tail's socket when it is open (no HTTP round trip), else over
   * HTTP. Either way the server dedups a retry by (producerId, producerSeq). A credential the socket no longer
   * honours is left to the HTTP path, which refreshes it.
   */
  async #sendEvents(events: AppendEventInput[]): Promise<AppendResult[]> {
    const single = events.length === 1;
    const query = single ? APPEND : APPEND_BATCH;
    const variables = single ? { sessionId: this.id, event: events[0] } : { sessionId: this.id, events };
    const unwrap = (data: { append?: AppendResult; appendBatch?: AppendResult[] }) => (single ? [data.append!] : data.appendBatch!);
    try {
      const overSocket = this.#tail?.request<{ append?: AppendResult; appendBatch?: AppendResult[] }>(query, variables);
      if (overSocket) {
        try {
          return unwrap(await overSocket);
        } catch (error) {
          const e = toStarciteError(error);
          if (e.code !== "token_expired" && e.code !== "unauthorized") throw e;
        }
      }
      return unwrap(await this.#request<{ append?: AppendResult; appendBatch?: AppendResult[] }>(query, variables));
    } catch (error) {
      throw toStarciteError(error);
    }
  }
}

export function toAppendInput(input: SessionAppendInput): Omit<AppendEventInput, "producerId" | "producerSeq"> {
  if (!input || typeof input !== "object")
    throw new StarciteError("invalid_argument", "append takes an object, e.g. { text } or { type, payload }");
  if (input.text !== undefined && typeof input.text !== "string") throw new StarciteError("invalid_argument", "text must be a string");
  if (input.payload !== undefined && (input.payload === null || typeof input.payload !== "object" || Array.isArray(input.payload))) {
    throw new StarciteError("invalid_argument", "payload must be a JSON object");
  }
  if (input.text === undefined && input.payload === undefined) {
    throw new StarciteError("invalid_argument", "append needs text or payload");
  }
  const payload: JsonObject = { ...(input.payload ?? {}) };
  if (input.text !== undefined) payload.text = input.text;
  const out: Omit<AppendEventInput, "producerId" | "producerSeq"> = { type: input.type ?? "content", payload };
  if (input.actor !== undefined) out.actor = input.actor;
  if (input.source !== undefined) out.source = input.source;
  if (input.metadata !== undefined) out.metadata = input.metadata;
  if (input.refs !== undefined) out.refs = input.refs;
  if (input.idempotencyKey !== undefined) out.idempotencyKey = input.idempotencyKey;
  if (input.expectedSeq !== undefined) out.expectedSeq = input.expectedSeq;
  return out;
}
