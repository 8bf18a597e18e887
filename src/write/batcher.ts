import type { Sql } from "../db/client.ts";
import { StarciteError, toStarciteError } from "../db/errors.ts";
import { append, appendGroups, appendItems, type AddressedEvent, type AppendOutcome, type GroupOutcome } from "../db/events.ts";
import type { AppendResult } from "../db/types.ts";
import type { Logger } from "../shared/logger.ts";
import type { Metrics } from "../shared/metrics.ts";

export interface BatcherOptions {
  /** Most events in one append transaction. */
  maxBatch?: number;
  /** Append transactions in flight at once. */
  maxInFlight?: number;
  /** Appends that may wait for a free transaction while all are in flight; beyond it they fail with `overloaded`. */
  maxQueued?: number;
  /** Where an unforeseen failure is logged with its cause (callers only see `internal_error`). */
  logger?: Logger;
}

export const DEFAULT_MAX_QUEUED_APPENDS = 10_000;

interface Pending {
  event: AddressedEvent;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
  startedAt: bigint;
}

/** An all-or-nothing batch (appendBatch): one result per event, or the first error for all of them. */
interface PendingGroup {
  events: AddressedEvent[];
  resolve: (results: AppendResult[]) => void;
  reject: (error: unknown) => void;
  startedAt: bigint;
}

/**
 * Group commit. Every NOTIFYing transaction holds a cluster-wide lock through its commit flush, so one
 * transaction per append caps the whole database near one commit per fsync. Appends that arrive while
 * a transaction is in flight wait and go together in the next `starcite.append_items` call; an idle
 * server sends an append at once. Atomic batches join the same transaction as groups of their own
 * (`starcite.append_groups`: each all-or-nothing apart from the rest). Each caller still gets its own result
 * or its own error.
 */
export class AppendBatcher {
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  readonly #maxQueued: number;
  readonly #logger: Logger | undefined;
  #queue: Pending[] = [];
  #groups: PendingGroup[] = [];
  /** Events waiting in #queue and #groups. */
  #queued = 0;
  #inFlight = 0;
  #scheduled = false;
  #closed = false;
  #idle: (() => void)[] = [];

  constructor(
    private readonly sql: Sql,
    private readonly metrics: Metrics,
    options: BatcherOptions = {},
  ) {
    this.#maxBatch = options.maxBatch ?? 500;
    this.#maxInFlight = options.maxInFlight ?? 2;
    this.#maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED_APPENDS;
    this.#logger = options.logger;
  }

  #internal(error: unknown): StarciteError {
    this.#logger?.error("unexpected error", {
      where: "append",
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    return new StarciteError("internal_error", "append failed");
  }

  append(event: AddressedEvent): Promise<AppendResult> {
    const refused = this.#refuse(1);
    if (refused) return Promise.reject(refused);
    return new Promise((resolve, reject) => {
      this.#queue.push({ event, resolve, reject, startedAt: process.hrtime.bigint() });
      this.#queued++;
      this.#schedule();
    });
  }

  /** Events in order, all or none: their results, or the first failing event's error (and nothing written). */
  appendAtomic(events: AddressedEvent[]): Promise<AppendResult[]> {
    if (events.length === 0) return Promise.resolve([]);
    const refused = this.#refuse(events.length);
    if (refused) return Promise.reject(refused);
    return new Promise((resolve, reject) => {
      this.#groups.push({ events, resolve, reject, startedAt: process.hrtime.bigint() });
      this.#queued += events.length;
      this.#schedule();
    });
  }

  #refuse(events: number): StarciteError | null {
    if (this.#closed) return new StarciteError("shutting_down", "the server is shutting down");
    if (this.#inFlight < this.#maxInFlight || this.#queued + events <= this.#maxQueued) return null;
    this.metrics.appends.inc({ outcome: "rejected" }, events);
    return new StarciteError("overloaded", `more than ${this.#maxQueued} appends are waiting; retry with backoff`, {
      max_queued: this.#maxQueued,
    });
  }

  /** Stops taking appends and resolves once everything accepted so far has its result. */
  drain(): Promise<void> {
    this.#closed = true;
    if (this.#queued === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.#maxInFlight || this.#queued === 0) return;
    this.#scheduled = true;
    // Let appends issued in the same tick join this transaction.
    queueMicrotask(() => {
      this.#scheduled = false;
      while (this.#inFlight < this.#maxInFlight && this.#queued > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        // Whole groups while they fit in the batch size, and always the first (a group is never split).
        let room = this.#maxBatch - batch.length;
        let take = 0;
        for (const g of this.#groups) {
          if (take > 0 && g.events.length > room) break;
          room -= g.events.length;
          take++;
        }
        const groups = this.#groups.splice(0, take);
        this.#queued -= batch.length + groups.reduce((n, g) => n + g.events.length, 0);
        void (groups.length > 0 ? this.#flushGroups(batch, groups) : this.#flush(batch));
      }
    });
  }

  async #flush(batch: Pending[]): Promise<void> {
    this.#inFlight++;
    this.metrics.appendBatchSize.observe(batch.length);
    try {
      let outcomes: AppendOutcome[];
      try {
        outcomes =
          batch.length === 1
            ? [await this.#appendOne(batch[0]!.event)]
            : await appendItems(
                this.sql,
                batch.map((p) => p.event),
              );
      } catch (error) {
        const mapped = toStarciteError(error);
        if (batch.length === 1 || (mapped instanceof StarciteError && mapped.code === "database_unavailable")) throw mapped;
        // Something unforeseen failed the whole call: isolate it so only the culprit fails.
        outcomes = [];
        for (const p of batch) {
          try {
            outcomes.push(...(await appendItems(this.sql, [p.event])));
          } catch (e) {
            const m = toStarciteError(e);
            outcomes.push({ ok: false, error: m instanceof StarciteError ? m : this.#internal(e) });
          }
        }
      }
      outcomes.forEach((outcome, i) => this.#settle(batch[i]!, outcome));
    } catch (error) {
      const failure = error instanceof StarciteError ? error : this.#internal(error);
      for (const p of batch) this.#settle(p, { ok: false, error: failure });
    } finally {
      this.#done();
    }
  }

  /** Single appends (one non-atomic group) and atomic batches in one `starcite.append_groups` transaction. */
  async #flushGroups(batch: Pending[], groups: PendingGroup[]): Promise<void> {
    this.#inFlight++;
    this.metrics.appendBatchSize.observe(batch.length + groups.reduce((n, g) => n + g.events.length, 0));
    try {
      const calls = [
        ...(batch.length > 0 ? [{ events: batch.map((p) => p.event), atomic: false }] : []),
        ...groups.map((g) => ({ events: g.events, atomic: true })),
      ];
      let outcomes;
      try {
        outcomes = await appendGroups(this.sql, calls);
      } catch (error) {
        const mapped = toStarciteError(error);
        if (mapped instanceof StarciteError && mapped.code === "database_unavailable") throw mapped;
        // Something unforeseen failed the whole call: each group on its own, so only the culprit fails.
        outcomes = [];
        for (const call of calls) {
          try {
            outcomes.push(...(await appendGroups(this.sql, [call])));
          } catch (e) {
            const m = toStarciteError(e);
            outcomes.push({ ok: false as const, error: m instanceof StarciteError ? m : this.#internal(e) });
          }
        }
      }
      const singles = batch.length > 0 ? outcomes.shift()! : null;
      if (singles) {
        batch.forEach((p, i) => this.#settle(p, singles.ok ? singles.outcomes[i]! : { ok: false, error: singles.error }));
      }
      groups.forEach((g, i) => this.#settleGroup(g, outcomes[i]!));
    } catch (error) {
      const failure = error instanceof StarciteError ? error : this.#internal(error);
      for (const p of batch) this.#settle(p, { ok: false, error: failure });
      for (const g of groups) this.#settleGroup(g, { ok: false, error: failure });
    } finally {
      this.#done();
    }
  }

  #done(): void {
    this.#inFlight--;
    this.#schedule();
    if (this.#inFlight === 0 && this.#queued === 0) for (const done of this.#idle.splice(0)) done();
  }

  /** An idle server's single append takes starcite.append's direct path (about half the cost of the engine). */
  async #appendOne(event: AddressedEvent): Promise<AppendOutcome> {
    try {
      return { ok: true, result: await append(this.sql, event.sessionId, event, event.tenantId) };
    } catch (error) {
      if (error instanceof StarciteError && error.code !== "database_unavailable") return { ok: false, error };
      throw error;
    }
  }

  #settleGroup(g: PendingGroup, outcome: GroupOutcome): void {
    this.metrics.appendDuration.observe(Number(process.hrtime.bigint() - g.startedAt) / 1e9);
    const failed = outcome.ok ? outcome.outcomes.find((o) => !o.ok) : outcome;
    if (failed && !failed.ok) {
      this.metrics.appends.inc({ outcome: "rejected" }, g.events.length);
      return g.reject(failed.error);
    }
    const results = outcome.ok ? outcome.outcomes.map((o) => (o.ok ? o.result : null)) : [];
    if (results.length !== g.events.length || results.some((r) => r === null)) {
      return g.reject(this.#internal(new Error(`an atomic group of ${g.events.length} got ${results.length} results`)));
    }
    for (const r of results) this.metrics.appends.inc({ outcome: r!.deduped ? "deduped" : "appended" });
    g.resolve(results as AppendResult[]);
  }

  #settle(p: Pending, outcome: AppendOutcome): void {
    this.metrics.appendDuration.observe(Number(process.hrtime.bigint() - p.startedAt) / 1e9);
    if (outcome.ok) {
      this.metrics.appends.inc({ outcome: outcome.result.deduped ? "deduped" : "appended" });
      p.resolve(outcome.result);
    } else {
      this.metrics.appends.inc({ outcome: "rejected" });
      p.reject(outcome.error);
    }
  }
}
