import type { Sql } from "../db/client.ts";
import { StarciteError, toStarciteError } from "../db/errors.ts";
import { append, appendItems, type AddressedEvent, type AppendOutcome } from "../db/events.ts";
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

/**
 * Group commit. Every NOTIFYing transaction holds a cluster-wide lock through its commit flush, so one
 * transaction per append caps the whole database near one commit per fsync. Appends that arrive while
 * a transaction is in flight wait and go together in the next `starcite.append_items` call; an idle
 * server sends an append at once. Each caller still gets its own result or its own error.
 */
export class AppendBatcher {
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  readonly #maxQueued: number;
  readonly #logger: Logger | undefined;
  #queue: Pending[] = [];
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
    if (this.#closed) return Promise.reject(new StarciteError("shutting_down", "the server is shutting down"));
    if (this.#inFlight >= this.#maxInFlight && this.#queue.length >= this.#maxQueued) {
      this.metrics.appends.inc({ outcome: "rejected" });
      return Promise.reject(
        new StarciteError("overloaded", `more than ${this.#maxQueued} appends are waiting; retry with backoff`, {
          max_queued: this.#maxQueued,
        }),
      );
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ event, resolve, reject, startedAt: process.hrtime.bigint() });
      this.#schedule();
    });
  }

  /** Stops taking appends and resolves once everything accepted so far has its result. */
  drain(): Promise<void> {
    this.#closed = true;
    if (this.#queue.length === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.#maxInFlight || this.#queue.length === 0) return;
    this.#scheduled = true;
    // Let appends issued in the same tick join this transaction.
    queueMicrotask(() => {
      this.#scheduled = false;
      while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
        void this.#flush(this.#queue.splice(0, this.#maxBatch));
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
      this.#inFlight--;
      this.#schedule();
      if (this.#inFlight === 0 && this.#queue.length === 0) for (const done of this.#idle.splice(0)) done();
    }
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
