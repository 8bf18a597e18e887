import { readChanges } from "../db/changes.ts";
import type { Sql } from "../db/client.ts";
import { StarciteError } from "../db/errors.ts";
import type { NotificationListener, TenantChanged } from "../db/listener.ts";
import type { SessionChange } from "../db/types.ts";
import type { Metrics } from "../shared/metrics.ts";

export interface ChangeBatch {
  changes: SessionChange[];
  /** Seq of the last change delivered so far: resume from here. */
  cursor: number;
  /** False while replaying; the first batch with true (possibly empty) marks the catch-up point. */
  live: boolean;
}

/**
 * Wake-ups for lifecycle tails, per tenant, from the process's one LISTEN connection. Each tenant has a
 * generation number that every hint bumps, so a reader that read before a hint and waits after it is not lost.
 */
export class ChangeFeeds {
  #generation = new Map<string, number>();
  #waiters = new Map<string, Set<() => void>>();
  #failure: StarciteError | null = null;
  #downTimer: NodeJS.Timeout | null = null;
  readonly #unsubscribe: () => void;

  constructor(
    listener: NotificationListener,
    private readonly unavailableAfterMs = 5000,
  ) {
    const onChanged = (c: TenantChanged) => this.#wake(c.tenantId);
    const onDisconnected = () => {
      this.#downTimer ??= setTimeout(() => {
        this.#failure = new StarciteError("database_unavailable", "lost the connection to the database; resume from your cursor");
        for (const tenant of [...this.#waiters.keys()]) this.#wake(tenant);
      }, this.unavailableAfterMs).unref();
    };
    const onReconnected = () => {
      if (this.#downTimer) clearTimeout(this.#downTimer);
      this.#downTimer = null;
      this.#failure = null;
      // Hints sent while the connection was down are gone: every waiting reader re-reads from its cursor.
      for (const tenant of [...this.#waiters.keys()]) this.#wake(tenant);
    };
    listener.on("changed", onChanged);
    listener.on("disconnected", onDisconnected);
    listener.on("reconnected", onReconnected);
    this.#unsubscribe = () => {
      listener.off("changed", onChanged);
      listener.off("disconnected", onDisconnected);
      listener.off("reconnected", onReconnected);
    };
  }

  get failure(): StarciteError | null {
    return this.#failure;
  }

  generation(tenantId: string): number {
    return this.#generation.get(tenantId) ?? 0;
  }

  /** Resolves at the next hint for the tenant after `generation` (at once if there was one), or on abort. */
  wait(tenantId: string, generation: number, signal: AbortSignal): Promise<void> {
    if (this.generation(tenantId) !== generation || this.#failure || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.#waiters.get(tenantId);
      if (!set) this.#waiters.set(tenantId, (set = new Set()));
      const waiters = set;
      const wake = () => {
        waiters.delete(wake);
        if (waiters.size === 0 && this.#waiters.get(tenantId) === waiters) this.#waiters.delete(tenantId);
        signal.removeEventListener("abort", wake);
        resolve();
      };
      waiters.add(wake);
      signal.addEventListener("abort", wake, { once: true });
    });
  }

  #wake(tenantId: string): void {
    this.#generation.set(tenantId, this.generation(tenantId) + 1);
    for (const wake of [...(this.#waiters.get(tenantId) ?? [])]) wake();
  }

  close(): void {
    this.#unsubscribe();
    if (this.#downTimer) clearTimeout(this.#downTimer);
    this.#failure = new StarciteError("shutting_down", "the server is shutting down; resume from your cursor");
    for (const tenant of [...this.#waiters.keys()]) this.#wake(tenant);
  }
}

/**
 * One reader of a tenant's lifecycle feed: replays changes with seq > cursor, then follows live, each change once
 * in commit order. Pull-based like TailIterator; `return()` ends it at once.
 */
export class ChangeIterator implements AsyncIterableIterator<ChangeBatch> {
  #cursor: number;
  #live = false;
  #done = false;
  #abort = new AbortController();

  constructor(
    private readonly sql: Sql,
    private readonly feeds: ChangeFeeds,
    private readonly metrics: Metrics,
    private readonly options: { tenantId: string; cursor: number; pageSize?: number },
  ) {
    this.#cursor = options.cursor;
    metrics.subscriptions.inc();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<ChangeBatch, undefined>> {
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

  async #step(): Promise<ChangeBatch | null> {
    const { tenantId } = this.options;
    for (;;) {
      if (this.#done) return null;
      if (this.feeds.failure) throw this.feeds.failure;
      const generation = this.feeds.generation(tenantId);
      const changes = await readChanges(this.sql, tenantId, this.#cursor, this.options.pageSize ?? 1000);
      if (this.#done) return null;
      if (changes.length > 0) {
        if (changes[0]!.seq !== this.#cursor + 1) {
          throw new StarciteError("internal_error", `lifecycle feed expected seq ${this.#cursor + 1}, got ${changes[0]!.seq}`);
        }
        this.#cursor = changes[changes.length - 1]!.seq;
        return { changes, cursor: this.#cursor, live: this.#live };
      }
      if (!this.#live) {
        this.#live = true;
        return { changes: [], cursor: this.#cursor, live: true };
      }
      await this.feeds.wait(tenantId, generation, this.#abort.signal);
    }
  }

  async return(): Promise<IteratorResult<ChangeBatch, undefined>> {
    this.#finish();
    return { done: true, value: undefined };
  }

  async throw(error?: unknown): Promise<IteratorResult<ChangeBatch, undefined>> {
    this.#finish();
    throw error;
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#abort.abort();
    this.metrics.subscriptions.dec();
  }
}
