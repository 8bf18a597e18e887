import type { Sql } from "../db/client.ts";
import { StarciteError } from "../db/errors.ts";
import type { StoredEvent } from "../db/types.ts";
import type { LiveHub, SessionFeed } from "./hub.ts";
import { readThroughOutage } from "./retry.ts";

export interface TailBatch {
  events: StoredEvent[];
  /** Seq of the last event delivered so far: resume from here. */
  cursor: number;
  /** False while replaying history; the first batch with true marks the catch-up point (may be empty). */
  live: boolean;
}

export interface TailOptions {
  sessionId: string;
  cursor: number;
  tenantId?: string;
  /** Ends the tail with this error when it fires (e.g. the credential expires). */
  deadline?: { at: number; error: () => StarciteError };
  /** Ends the tail with the signal's reason (a StarciteError) when it aborts (e.g. the credential is revoked). */
  stop?: AbortSignal;
  onClose?: () => void;
}

/**
 * One subscriber's tail: replays seq > cursor, then follows live, each event exactly once in seq order.
 * The iterator is pull-based, so a slow consumer holds no buffer of its own: when it falls behind the
 * feed's ring it pages from the database from its own cursor. `return()` ends it at once, even while
 * it waits for new events, so nothing leaks when a client unsubscribes.
 */
export class TailIterator implements AsyncIterableIterator<TailBatch> {
  #cursor: number;
  #live = false;
  #done = false;
  #abort = new AbortController();
  #feed: SessionFeed;
  #timer: NodeJS.Timeout | null = null;
  #deadlineHit = false;
  #stopped: StarciteError | null = null;
  #onStop = () => {
    this.#stopped = this.options.stop?.reason instanceof StarciteError ? this.options.stop.reason
      : new StarciteError("unauthorized", "the credential is no longer valid");
    this.#abort.abort();
  };

  constructor(
    private readonly sql: Sql,
    private readonly hub: LiveHub,
    private readonly options: TailOptions,
  ) {
    this.#cursor = options.cursor;
    this.#feed = hub.acquire(options.sessionId, options.tenantId);
    hub.metrics.subscriptions.inc();
    if (options.deadline) {
      const ms = Math.max(0, options.deadline.at - Date.now());
      this.#timer = setTimeout(() => {
        this.#deadlineHit = true;
        this.#abort.abort();
      }, Math.min(ms, 2 ** 31 - 1));
      this.#timer.unref();
    }
    if (options.stop?.aborted) this.#onStop();
    else options.stop?.addEventListener("abort", this.#onStop, { once: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  get cursor(): number {
    return this.#cursor;
  }

  async next(): Promise<IteratorResult<TailBatch, undefined>> {
    try {
      const batch = await this.#step();
      if (batch) return { done: false, value: batch };
    } catch (error) {
      this.#finish();
      throw error;
    }
    this.#finish();
    return { done: true, value: undefined };
  }

  async #step(): Promise<TailBatch | null> {
    const { pageSize } = this.hub.options;
    const feed = this.#feed;
    try {
      await feed.ready;
    } catch {
      throw feed.failure ?? new StarciteError("database_unavailable", "could not read the session");
    }
    for (;;) {
      if (this.#deadlineHit) throw this.options.deadline!.error();
      if (this.#stopped) throw this.#stopped;
      if (this.#done) return null;
      if (feed.failure) throw feed.failure;

      let events = feed.eventsAfter(this.#cursor, pageSize);
      if (events === null) {
        this.hub.metrics.eventReads.inc({ source: "catchup" });
        const from = this.#cursor;
        events = await readThroughOutage(() => this.hub.read(this.options.sessionId, from, pageSize, this.options.tenantId),
          this.hub.options.unavailableAfterMs, this.#abort.signal);
        if (this.#done) return null;
      }
      if (events.length > 0) {
        const last = events[events.length - 1]!;
        if (events[0]!.seq !== this.#cursor + 1) {
          // The log is gapless, so this can only be a bug; refuse to skip silently.
          throw new StarciteError("internal_error", `tail expected seq ${this.#cursor + 1}, got ${events[0]!.seq}`);
        }
        this.#cursor = last.seq;
        // Replayed pages stay live=false even when they reach the catch-up point; the empty live batch
        // that follows marks it, so every event in a live=true batch arrived after the catch-up.
        return { events, cursor: this.#cursor, live: this.#live };
      }
      if (!this.#live) {
        this.#live = true;
        return { events: [], cursor: this.#cursor, live: true };
      }
      await feed.waitBeyond(this.#cursor, this.#abort.signal);
    }
  }

  async return(): Promise<IteratorResult<TailBatch, undefined>> {
    this.#finish();
    return { done: true, value: undefined };
  }

  async throw(error?: unknown): Promise<IteratorResult<TailBatch, undefined>> {
    this.#finish();
    throw error;
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#abort.abort();
    if (this.#timer) clearTimeout(this.#timer);
    this.options.stop?.removeEventListener("abort", this.#onStop);
    this.hub.release(this.#feed);
    this.hub.metrics.subscriptions.dec();
    this.options.onClose?.();
  }
}
