import type { Sql } from "../db/client.ts";
import { StarciteError } from "../db/errors.ts";
import { read } from "../db/events.ts";
import type { StoredEvent } from "../db/types.ts";
import type { LiveHub, SessionFeed } from "./hub.ts";
import type { Frame } from "./frames.ts";
import type { Page, Prefetched, SharedProjection } from "./json-pages.ts";
import { readThroughOutage } from "./retry.ts";

export interface RowBatch {
  events: StoredEvent[];
  page?: undefined;
  /** Seq of the last event delivered so far: resume from here. */
  cursor: number;
  /** False while replaying history; the first batch with true marks the catch-up point (may be empty). */
  live: boolean;
}

/** Replayed events as one frame's JSON bytes, serialised once in the server (only after `encodeCatchUp`). */
export class PageBatch {
  constructor(
    readonly page: Frame,
    readonly cursor: number,
    readonly live: boolean,
  ) {}

  /** Only the encoder that asked for pages reads them; anything else reading rows here is a bug, never an empty batch. */
  get events(): never {
    throw new StarciteError("internal_error", "a catch-up page was read as rows");
  }
}

export type TailBatch = RowBatch | PageBatch;

/** Seqs beyond this are not GraphQL Ints: such pages go as rows, where GraphQL reports the overflow itself. */
const PAGE_SEQ_MAX = 2147483647;

export interface TailOptions {
  sessionId: string;
  cursor: number;
  tenantId?: string;
  /** When the session was created: cached catch-up pages of an older session with the same id are never served. */
  epoch?: string;
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
  #projection: SharedProjection | null = null;
  /**
   * Catch-up pages read ahead, in order: the first after the current page's last seq, each next one a full page
   * (pageEvents) further on, queued only while the session is known to hold that many more events.
   */
  #ahead: Prefetched[] = [];
  /** The rest of the catch-up page being sent: frames that continue from the cursor. */
  #frames: Frame[] = [];
  #stopped: StarciteError | null = null;
  /** Resolves the wait for the feed in progress, if any. */
  #wake: (() => void) | null = null;
  #onStop = () => {
    this.#stopped =
      this.options.stop?.reason instanceof StarciteError
        ? this.options.stop.reason
        : new StarciteError("unauthorized", "the credential is no longer valid");
    this.#interrupt();
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
      this.#timer = setTimeout(
        () => {
          this.#deadlineHit = true;
          this.#interrupt();
        },
        Math.min(ms, 2 ** 31 - 1),
      );
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

  /**
   * From now on, replayed history comes as JSON frames with this projection, serialised once in the server (and
   * shared with other readers at the same point) instead of rows: for a transport that writes JSON anyway. The
   * next page is read while this one is being sent.
   */
  encodeCatchUp(projection: SharedProjection): void {
    this.#projection = projection;
  }

  /**
   * The next live batch when the feed's ring holds it now, with no promise made: for a transport that drives the
   * tail itself (GraphQL's direct delivery). `undefined`: nothing new yet, `park` and poll again when woken.
   * `null`: only `next()` can go on (catch-up, a database read, an error, the end).
   */
  poll(): RowBatch | undefined | null {
    this.#wake = null;
    if (!this.#live || this.#done || this.#stopped || this.#deadlineHit || this.#frames.length > 0) return null;
    const feed = this.#feed;
    if (feed.failure) return null;
    const events = feed.eventsAfter(this.#cursor, this.hub.options.pageSize);
    if (events === null || (events.length > 0 && events[0]!.seq !== this.#cursor + 1)) return null;
    if (events.length === 0) return undefined;
    this.#cursor = events[events.length - 1]!.seq;
    return { events, cursor: this.#cursor, live: true };
  }

  /**
   * Calls `wake` once when `poll` may have something (new events, or the tail must end); false, without waiting,
   * when it already may. One callback for the tail's whole life: no allocation per wait.
   */
  park(wake: () => void): boolean {
    if (this.#done || this.#stopped || this.#deadlineHit || this.#abort.signal.aborted) return false;
    if (!this.#feed.wait(this.#cursor, wake)) return false;
    this.#wake = wake;
    return true;
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

      let frame = this.#frames.shift();
      let events = frame ? null : feed.eventsAfter(this.#cursor, pageSize);
      if (!frame && events === null && this.#projection && this.#cursor + this.hub.pages.options.pageEvents <= PAGE_SEQ_MAX) {
        const page = await this.#page(this.#projection).catch((error: unknown) => {
          // Below what Postgres keeps: the rows path below reads the archive, or ends the tail with cursor_expired.
          if (error instanceof StarciteError && error.code === "cursor_expired") return null;
          throw error;
        });
        if (this.#done) return null;
        if (page && page.length > 0) {
          [frame, ...this.#frames] = page;
        } else if (page) {
          events = [];
        }
      }
      if (frame) {
        if (frame.lastSeq - frame.count !== this.#cursor) {
          this.#frames = [];
          throw new StarciteError(
            "internal_error",
            `tail expected seqs ${this.#cursor + 1}.., got a frame ending at ${frame.lastSeq} with ${frame.count} events`,
          );
        }
        this.#cursor = frame.lastSeq;
        return new PageBatch(frame, this.#cursor, this.#live);
      }
      if (events === null) {
        this.hub.metrics.eventReads.inc({ source: "catchup" });
        const from = this.#cursor;
        events = await readThroughOutage(
          () => this.hub.read(this.options.sessionId, from, pageSize, this.options.tenantId),
          this.hub.options.unavailableAfterMs,
          this.#abort.signal,
        );
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
      await new Promise<void>((resolve) => {
        if (this.#abort.signal.aborted || !feed.wait(this.#cursor, resolve)) resolve();
        else this.#wake = resolve;
      });
      this.#wake = null;
    }
  }

  /** Ends a wait for the feed and any read in its retry pause (the loop then sees why). */
  #interrupt(): void {
    // With a reason: abort() without one builds a DOMException, stack and all.
    this.#abort.abort("tail interrupted");
    const wake = this.#wake;
    if (wake) {
      this.#wake = null;
      this.#feed.unwait(wake);
      wake();
    }
  }

  /** The catch-up page after the cursor: the one read ahead if it is that one, else a read now; then reads the next ahead. */
  async #page(projection: SharedProjection): Promise<Page> {
    const pages = this.hub.pages;
    const address = (after: number) => ({
      sessionId: this.options.sessionId,
      tenantId: this.options.tenantId,
      epoch: this.options.epoch ?? "",
      projection,
      after,
    });
    const ahead = this.#ahead.shift();
    if (ahead && ahead.after !== this.#cursor) this.#releaseAhead();
    let page: Page | undefined;
    if (ahead) {
      try {
        if (ahead.after === this.#cursor) page = await ahead.page;
      } catch {
        // read it again below, and let that one fail if it must
      } finally {
        ahead.release();
      }
    }
    const from = this.#cursor;
    page ??= await readThroughOutage(() => pages.read(address(from)), this.hub.options.unavailableAfterMs, this.#abort.signal);
    const count = page.reduce((n, frame) => n + frame.count, 0);
    const last = page.at(-1)?.lastSeq ?? from;
    const size = pages.options.pageEvents;
    const aligned = this.#ahead.length === 0 || this.#ahead[0]!.after === last;
    if (count !== size || this.#done || !aligned) this.#releaseAhead();
    if (count === size && !this.#done) {
      // Top up: the next page, then whole pages while the session is known to go that far (the log is gapless,
      // so a full page after `last` ends at last + size).
      while (this.#ahead.length < this.hub.options.catchUpReadAhead) {
        const after = last + this.#ahead.length * size;
        if (after + size > PAGE_SEQ_MAX || (this.#ahead.length > 0 && after + size > this.#feed.knownSeq)) break;
        const next = pages.prefetch(address(after));
        if (!next) break;
        this.#ahead.push(next);
      }
    }
    return page;
  }

  #releaseAhead(): void {
    for (const ahead of this.#ahead.splice(0)) ahead.release();
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
    this.#interrupt();
    this.#releaseAhead();
    this.#frames = [];
    if (this.#timer) clearTimeout(this.#timer);
    this.options.stop?.removeEventListener("abort", this.#onStop);
    this.hub.release(this.#feed);
    this.hub.metrics.subscriptions.dec();
    this.options.onClose?.();
  }
}
