import type { Sql } from "../db/client.ts";
import { StarciteError, toStarciteError } from "../db/errors.ts";
import { postgresRead, readMany, type EventRead, type ReadRequest } from "../db/events.ts";
import { lastSeqs } from "../db/sessions.ts";
import type { StoredEvent } from "../db/types.ts";
import type { Logger } from "../shared/logger.ts";
import type { Metrics } from "../shared/metrics.ts";
import type { NotificationListener, SessionAdvanced } from "../db/listener.ts";
import { JsonPages } from "./json-pages.ts";
import { readThroughOutage } from "./retry.ts";

export interface HubOptions {
  /** Events per database read (hub reads and subscriber catch-up pages). */
  pageSize?: number;
  /** Recent events kept in memory per followed session, shared by all its subscribers. */
  ringEvents?: number;
  /** Approximate byte cap of one session's ring. */
  ringBytes?: number;
  /** Approximate byte cap of all rings together: with many followed sessions each ring gets its share. */
  totalRingBytes?: number;
  /** How long the LISTEN connection may be down before subscribers get `database_unavailable`. */
  unavailableAfterMs?: number;
  /** Catch-up pages serialised once in the server (the GraphQL fast path): events per database read (<= events_per_read). */
  catchUpPageEvents?: number;
  /** Most bytes of the events JSON in one catch-up frame (see FrameEncoder: kept well below 128 KiB). */
  catchUpFrameBytes?: number;
  /** Bytes of full catch-up pages kept for readers starting at the same point (0: none). */
  catchUpCacheBytes?: number;
  /** Catch-up pages read ahead of their readers at once, process-wide. */
  catchUpPrefetch?: number;
  /** Catch-up pages one reader may have read ahead at once (each takes one of the process's catchUpPrefetch slots). */
  catchUpReadAhead?: number;
  /**
   * How long one round of live reads may wake subscribers before it lets the event loop run other work (requests,
   * socket drains), in ms; 0: never. Rounds that woke thousands of subscribers held the loop for 100 ms and more.
   */
  deliverySliceMs?: number;
}

const DEFAULTS: Required<HubOptions> = {
  pageSize: 1000,
  ringEvents: 1024,
  ringBytes: 1024 * 1024,
  totalRingBytes: 256 * 1024 * 1024,
  unavailableAfterMs: 5000,
  catchUpPageEvents: 1000,
  catchUpFrameBytes: 60_000,
  catchUpCacheBytes: 64 * 1024 * 1024,
  catchUpPrefetch: 16,
  catchUpReadAhead: 3,
  deliverySliceMs: 5,
};

/**
 * The live state of one followed session, shared by all of its subscribers in this process.
 * On each hint that the session advanced it reads the new events ONCE into a bounded ring and wakes
 * its subscribers, who slice what they need from the ring (or page from the database when they have
 * fallen behind it). So database reads per append do not grow with the number of subscribers.
 */
export class SessionFeed {
  /** Highest seq read into the ring (-1 until the feed knows the session's position). */
  fetchedSeq = -1;
  /** Highest seq any hint has announced. */
  knownSeq = 0;
  refs = 0;
  failure: StarciteError | null = null;

  #ring: StoredEvent[] = [];
  /** Slices handed out since the last read, by cursor: subscribers at the same point share one array. */
  #slices = new Map<number, StoredEvent[]>();
  #ringBytes = 0;
  #waiters = new Set<() => void>();
  #closed = false;
  readonly ready: Promise<void>;

  constructor(
    readonly sessionId: string,
    readonly tenantId: string | undefined,
    private readonly hub: LiveHub,
  ) {
    this.ready = this.#init();
    // A feed that could not start is marked failed, so the next subscriber gets a fresh one.
    this.ready.catch((error: unknown) => {
      const mapped = toStarciteError(error);
      this.fail(mapped instanceof StarciteError ? mapped : new StarciteError("database_unavailable", "could not read the session"));
    });
  }

  async #init(): Promise<void> {
    const seqs = await readThroughOutage(() => lastSeqs(this.hub.sql, [this.sessionId]), this.hub.options.unavailableAfterMs);
    const last = seqs.get(this.sessionId) ?? 0;
    this.fetchedSeq = Math.max(this.fetchedSeq, last);
    this.knownSeq = Math.max(this.knownSeq, last);
    this.pump();
  }

  /** Events with seq > cursor from the ring, at most `max`; null when the ring cannot serve the cursor. */
  eventsAfter(cursor: number, max: number): StoredEvent[] | null {
    if (this.fetchedSeq < 0) return null;
    if (cursor >= this.fetchedSeq) return [];
    const first = this.#ring[0];
    if (!first || cursor + 1 < first.seq) return null;
    const cached = this.#slices.get(cursor);
    if (cached && cached.length <= max) return cached;
    const start = cursor + 1 - first.seq;
    const slice = this.#ring.slice(start, start + max);
    this.#slices.set(cursor, slice);
    return slice;
  }

  /**
   * Calls `wake` once, when the feed has read past `cursor` or failed (or closes); returns false without waiting
   * when it already has. A waiter that stops waiting first takes itself out with `unwait`. Plain callbacks, not an
   * AbortSignal listener per wait: adding and removing those cost more than the delivery itself with 10,000
   * subscribers (scenario 4b).
   */
  wait(cursor: number, wake: () => void): boolean {
    if (this.fetchedSeq > cursor || this.failure || this.#closed) return false;
    this.#waiters.add(wake);
    return true;
  }

  unwait(wake: () => void): void {
    this.#waiters.delete(wake);
  }

  hint(lastSeq: number): void {
    if (lastSeq > this.knownSeq) this.knownSeq = lastSeq;
    this.pump();
  }

  fail(error: StarciteError): void {
    this.failure = error;
    this.#wakeAll();
  }

  clearFailure(): void {
    this.failure = null;
  }

  /** Asks the hub to read until the ring holds everything hints announced (the hub batches reads across feeds). */
  pump(): void {
    if (this.#closed || this.fetchedSeq < 0 || this.knownSeq <= this.fetchedSeq) return;
    this.hub.wantRead(this);
  }

  /** Events the hub read past fetchedSeq: into the ring, subscribers woken. */
  deliver(events: StoredEvent[]): void {
    if (this.#closed || events.length === 0) return;
    this.#push(events);
    this.#wakeAll();
  }

  get closed(): boolean {
    return this.#closed;
  }

  #push(events: StoredEvent[]): void {
    this.#slices.clear();
    for (const e of events) {
      if (e.seq !== this.fetchedSeq + 1 && this.#ring.length > 0) {
        // Never leave a hole in the ring: restart it at this event.
        this.#ring = [];
        this.#ringBytes = 0;
      }
      this.#ring.push(e);
      this.#ringBytes += approxSize(e);
      this.fetchedSeq = e.seq;
    }
    const { ringEvents, totalRingBytes } = this.hub.options;
    // Memory stays bounded however many sessions are followed; a subscriber outside the ring pages from the database.
    const ringBytes = Math.min(this.hub.options.ringBytes, Math.floor(totalRingBytes / Math.max(1, this.hub.feedCount)));
    let drop = 0;
    while (this.#ring.length - drop > ringEvents || (this.#ringBytes > ringBytes && this.#ring.length - drop > 1)) {
      this.#ringBytes -= approxSize(this.#ring[drop]!);
      drop++;
    }
    if (drop > 0) this.#ring.splice(0, drop);
  }

  #wakeAll(): void {
    if (this.#waiters.size === 0) return;
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const wake of waiters) wake();
  }

  close(): void {
    this.#closed = true;
    this.#ring = [];
    this.#slices.clear();
    this.#wakeAll();
  }
}

const sizes = new WeakMap<StoredEvent, number>();
function approxSize(e: StoredEvent): number {
  let size = sizes.get(e);
  if (size === undefined) {
    size = 200 + JSON.stringify(e.payload).length + (e.metadata ? JSON.stringify(e.metadata).length : 0);
    sizes.set(e, size);
  }
  return size;
}

/**
 * All followed sessions of this process, fed by the one LISTEN connection. Feeds exist while they
 * have subscribers. After the listener reconnects, every feed re-reads its session's position,
 * since notifications sent while it was down are lost.
 */
export class LiveHub {
  readonly options: Required<HubOptions>;
  /** Catch-up pages serialised once in the server, shared and cached across readers. */
  readonly pages: JsonPages;
  /** How events are read (Postgres, with the archive behind it when one is configured). */
  readonly read: EventRead;
  readonly #feeds = new Map<string, SessionFeed>();
  /** Feeds behind their hints, in the order they asked; read together, a round at a time. */
  readonly #behind = new Set<SessionFeed>();
  #reading = false;
  #retry: NodeJS.Timeout | null = null;
  /** When live reads started failing (0 while they succeed): past the outage budget, subscribers get database_unavailable. */
  #failingSince = 0;
  #retries = 0;
  #downTimer: NodeJS.Timeout | null = null;
  /** When the LISTEN connection was lost (0 while it is up and caught up). */
  #downSince = 0;
  #refreshing: AbortController | null = null;
  #unsubscribe: () => void;

  constructor(
    readonly sql: Sql,
    readonly listener: NotificationListener,
    readonly metrics: Metrics,
    readonly logger: Logger,
    options: HubOptions = {},
    read?: EventRead,
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.pages = new JsonPages(
      sql,
      {
        pageEvents: this.options.catchUpPageEvents,
        frameBytes: this.options.catchUpFrameBytes,
        cacheBytes: this.options.catchUpCacheBytes,
        prefetchSlots: this.options.catchUpPrefetch,
      },
      (how) => {
        metrics.catchUpPages.inc({ how });
        if (how === "database") metrics.eventReads.inc({ source: "catchup" });
      },
    );
    this.read = read ?? postgresRead(sql);
    const onAdvanced = (n: SessionAdvanced) => {
      this.metrics.notifications.inc();
      this.#feeds.get(n.sessionId)?.hint(n.lastSeq);
    };
    const onDisconnected = () => {
      if (this.#downSince === 0) this.#downSince = Date.now();
      if (this.#downTimer) return;
      this.#downTimer = setTimeout(() => {
        const error = new StarciteError("database_unavailable", "lost the connection to the database; resume from your cursor");
        for (const feed of this.#feeds.values()) feed.fail(error);
      }, this.options.unavailableAfterMs);
      this.#downTimer.unref();
    };
    const onReconnected = () => {
      if (this.#downTimer) clearTimeout(this.#downTimer);
      this.#downTimer = null;
      this.metrics.listenerReconnects.inc();
      void this.#refreshAll();
    };
    listener.on("advanced", onAdvanced);
    listener.on("disconnected", onDisconnected);
    listener.on("reconnected", onReconnected);
    this.#unsubscribe = () => {
      listener.off("advanced", onAdvanced);
      listener.off("disconnected", onDisconnected);
      listener.off("reconnected", onReconnected);
    };
  }

  get feedCount(): number {
    return this.#feeds.size;
  }

  /** A feed is behind its hints: read its new events in the next round. */
  wantRead(feed: SessionFeed): void {
    this.#behind.add(feed);
    if (this.#reading || this.#retry) return;
    this.#reading = true;
    // Feeds hinted in the same tick (one notification per session per commit) join this round.
    queueMicrotask(() => void this.#readRounds());
  }

  /**
   * The live fan-out's reads: every session that advanced, in one statement per tenant (`starcite.read_many`),
   * each round at most about one page of events in all, until no feed is behind. So a burst of commits
   * across many sessions costs a few reads, not one per session.
   */
  async #readRounds(): Promise<void> {
    const { pageSize, deliverySliceMs } = this.options;
    try {
      while (this.#behind.size > 0) {
        const round: SessionFeed[] = [];
        const byTenant = new Map<string | undefined, ReadRequest[]>();
        let budget = pageSize;
        for (const feed of this.#behind) {
          if (round.length > 0 && budget <= 0) break;
          this.#behind.delete(feed);
          if (feed.closed || feed.failure || feed.knownSeq <= feed.fetchedSeq) continue;
          const max = Math.max(1, Math.min(pageSize, feed.knownSeq - feed.fetchedSeq, budget));
          budget -= max;
          round.push(feed);
          let requests = byTenant.get(feed.tenantId);
          if (!requests) byTenant.set(feed.tenantId, (requests = []));
          requests.push({ sessionId: feed.sessionId, after: feed.fetchedSeq, max });
        }
        if (round.length === 0) continue;
        let read: Map<string, StoredEvent[]>[];
        try {
          read = await Promise.all(
            [...byTenant].map(([tenantId, requests]) => {
              this.metrics.eventReads.inc({ source: "hub" });
              return readMany(this.sql, requests, tenantId);
            }),
          );
        } catch (error) {
          this.#readFailed(round, error);
          return;
        }
        this.#failingSince = 0;
        this.#retries = 0;
        const events = new Map<string, StoredEvent[]>();
        for (const part of read) for (const [id, list] of part) events.set(id, list);
        // Waking a round's subscribers writes to their sockets: with thousands of them that is the longest stretch
        // the main thread runs, so the round lets other work in every deliverySliceMs (appends waited behind it).
        // A feed closed meanwhile takes nothing (deliver); one hinted meanwhile is in #behind for the next round.
        let sliceStart = performance.now();
        for (const feed of round) {
          const got = events.get(feed.sessionId);
          // Nothing to read (a hint ahead of what this tenant can see): wait for the next hint.
          if (!got || got.length === 0) continue;
          feed.deliver(got);
          if (feed.knownSeq > feed.fetchedSeq) this.#behind.add(feed);
          if (deliverySliceMs > 0 && performance.now() - sliceStart >= deliverySliceMs) {
            await new Promise((resolve) => setImmediate(resolve));
            sliceStart = performance.now();
          }
        }
      }
    } finally {
      this.#reading = false;
    }
  }

  /**
   * A round's read failed: its feeds are read again with backoff (50 ms doubling to 1 s), since a pool connection
   * killed under a read (a failover, a pooler restart) usually works on the next one. Once reads have failed for
   * longer than the outage budget, the feeds waiting for them fail with database_unavailable and their
   * subscribers resume from their cursors.
   */
  #readFailed(round: SessionFeed[], error: unknown): void {
    this.logger.warn("feed read failed; retrying", { sessions: round.length, error: String(error) });
    const now = Date.now();
    if (this.#failingSince === 0) this.#failingSince = now;
    if (now - this.#failingSince >= this.options.unavailableAfterMs) {
      const e = new StarciteError("database_unavailable", "the database is not reachable; resume from your cursor");
      for (const feed of [...round, ...this.#behind]) feed.fail(e);
      this.#behind.clear();
      this.#failingSince = 0;
      this.#retries = 0;
      return;
    }
    for (const feed of round) this.#behind.add(feed);
    this.#retry = setTimeout(
      () => {
        this.#retry = null;
        if (this.#behind.size > 0 && !this.#reading) {
          this.#reading = true;
          void this.#readRounds();
        }
      },
      Math.min(50 * 2 ** this.#retries++, 1000),
    );
    this.#retry.unref();
  }

  acquire(sessionId: string, tenantId?: string): SessionFeed {
    let feed = this.#feeds.get(sessionId);
    if (!feed || feed.failure) {
      if (feed) feed.close();
      // Subscribers of a failed feed keep their reference and release it themselves.
      feed = new SessionFeed(sessionId, tenantId, this);
      this.#feeds.set(sessionId, feed);
    }
    feed.refs++;
    return feed;
  }

  release(feed: SessionFeed): void {
    feed.refs--;
    if (feed.refs <= 0 && this.#feeds.get(feed.sessionId) === feed) {
      this.#feeds.delete(feed.sessionId);
      feed.close();
    }
  }

  /**
   * Hints every feed with its session's current last_seq (after a listener reconnect): notifications sent while
   * it was down are gone. The re-read may meet pool connections killed along with the LISTEN one, so it is
   * retried with backoff; feeds fail only once the outage (counted from the disconnect) outlasts its budget.
   */
  async #refreshAll(): Promise<void> {
    this.#refreshing?.abort();
    const refreshing = (this.#refreshing = new AbortController());
    const since = this.#downSince || Date.now();
    const budget = Math.max(0, this.options.unavailableAfterMs - (Date.now() - since));
    try {
      const ids = [...this.#feeds.keys()];
      if (ids.length > 0) {
        const seqs = await readThroughOutage(() => lastSeqs(this.sql, ids), budget, refreshing.signal);
        if (refreshing.signal.aborted) return;
        for (const [id, last] of seqs) this.#feeds.get(id)?.hint(last);
      }
      this.#downSince = 0;
    } catch (error) {
      if (refreshing.signal.aborted) return;
      this.logger.warn("refresh after reconnect failed", { error: String(error) });
      const e = new StarciteError("database_unavailable", "the database is not reachable; resume from your cursor");
      for (const feed of this.#feeds.values()) feed.fail(e);
      this.#downSince = 0;
    } finally {
      if (this.#refreshing === refreshing) this.#refreshing = null;
    }
  }

  close(): void {
    this.#unsubscribe();
    this.#refreshing?.abort();
    if (this.#downTimer) clearTimeout(this.#downTimer);
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
    this.#behind.clear();
    const error = new StarciteError("shutting_down", "the server is shutting down; resume from your cursor");
    for (const feed of this.#feeds.values()) {
      feed.fail(error);
      feed.close();
    }
    this.#feeds.clear();
    this.pages.clear();
  }
}
