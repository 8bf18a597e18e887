import { backoffDelay, Timers, type ResolvedRetry } from "./backoff.ts";
import { StarciteError, toStarciteError } from "./errors.ts";
import type { AppendEventInput, AppendResult } from "./protocol.ts";

/** Sends events in order: one item goes as `append`, several as `appendBatch` (atomic, in order). */
export type SendEvents = (events: AppendEventInput[]) => Promise<AppendResult[]>;

export interface OutboxOptions {
  send: SendEvents;
  /** Stable for the life of this outbox; the server dedups (producerId, producerSeq) per session. */
  producerId: string;
  /** producerSeq of the first event (default 1); each next one is previous + 1, as the server requires. */
  firstProducerSeq?: number;
  retry: ResolvedRetry;
  /** Most queued events sent in one request (default 100; 1 sends every event on its own). */
  maxBatchSize?: number;
  /**
   * Least time between the starts of two requests (default 0). The first request goes at once; events
   * queued meanwhile share the next one, so a burst of small events (tokens) costs few requests.
   */
  lingerMs?: number;
}

interface Item {
  input: Omit<AppendEventInput, "producerId" | "producerSeq">;
  producerSeq: number | undefined;
  /** Send this one alone (after its batch failed, to find the culprit). */
  alone: boolean;
  resolve: (result: AppendResult) => void;
  reject: (error: StarciteError) => void;
}

/**
 * A session's append queue. Every event gets the outbox's producer id and the next producer seq when it
 * first goes on the wire, and keeps them across retries, so a retry after a lost response is deduped by
 * the server instead of written twice. One request is in flight at a time, so the session sees the
 * events in the order `enqueue` was called. Network errors and transient codes are retried with
 * exponential backoff and jitter; anything else rejects that event's promise with the server's code.
 */
export class Outbox {
  readonly producerId: string;
  readonly #send: SendEvents;
  readonly #retry: ResolvedRetry;
  readonly #maxBatch: number;
  readonly #lingerMs: number;
  #lastSendAt = -Infinity;
  readonly #timers = new Timers();
  #queue: Item[] = [];
  #nextSeq: number;
  #running = false;
  #closed = false;
  #idle: (() => void)[] = [];

  constructor(options: OutboxOptions) {
    this.producerId = options.producerId;
    this.#send = options.send;
    this.#retry = options.retry;
    this.#maxBatch = Math.max(1, options.maxBatchSize ?? 100);
    this.#lingerMs = Math.max(0, options.lingerMs ?? 0);
    this.#nextSeq = options.firstProducerSeq ?? 1;
  }

  /** Events queued or in flight. */
  get pending(): number {
    return this.#queue.length;
  }

  /** The producerSeq the next new event will get. */
  get nextProducerSeq(): number {
    return this.#nextSeq;
  }

  enqueue(input: Omit<AppendEventInput, "producerId" | "producerSeq">): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new StarciteError("closed", "the session is closed"));
    return new Promise((resolve, reject) => {
      this.#queue.push({ input, producerSeq: undefined, alone: false, resolve, reject });
      if (!this.#running) void this.#pump();
    });
  }

  /** Resolves once everything enqueued so far has its result (or error). */
  flush(): Promise<void> {
    if (this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Rejects everything still queued with `closed` and cancels pending retries. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#timers.cancelAll();
    const error = new StarciteError("closed", "the session was closed before this event was confirmed");
    for (const item of this.#queue.splice(0)) item.reject(error);
    for (const done of this.#idle.splice(0)) done();
  }

  #takeFlight(): Item[] {
    const first = this.#queue[0]!;
    if (first.alone) return [first];
    const flight: Item[] = [];
    for (const item of this.#queue) {
      if (item.alone || flight.length >= this.#maxBatch) break;
      flight.push(item);
    }
    return flight;
  }

  async #pump(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const wait = this.#lastSendAt + this.#lingerMs - Date.now();
        if (wait > 0 && this.#queue.length < this.#maxBatch && !(await this.#timers.sleep(wait))) return;
        if (this.#closed) return;
        this.#lastSendAt = Date.now();
        await this.#deliver(this.#takeFlight());
      }
    } finally {
      this.#running = false;
      if (this.#queue.length === 0) for (const done of this.#idle.splice(0)) done();
    }
  }

  /** Sends one flight until it succeeds, fails for good, or the outbox closes. */
  async #deliver(flight: Item[]): Promise<void> {
    for (const item of flight) if (item.producerSeq === undefined) item.producerSeq = this.#nextSeq++;
    let retries = 0;
    let renumbered = 0;
    for (;;) {
      let results: AppendResult[];
      try {
        results = await this.#send(flight.map((item) => ({ ...item.input, producerId: this.producerId, producerSeq: item.producerSeq! })));
      } catch (thrown) {
        if (this.#closed) return;
        const error = toStarciteError(thrown);
        const expected = error.detail.expectedProducerSeq;
        if (
          error.code === "producer_seq_conflict" &&
          typeof expected === "number" &&
          expected !== flight[0]!.producerSeq &&
          renumbered < 3
        ) {
          // An earlier flight failed ambiguously and was in fact never written: continue the producer's run where the server has it.
          renumbered++;
          this.#nextSeq = expected;
          for (const item of flight) item.producerSeq = this.#nextSeq++;
          continue;
        }
        if (error.retryable && retries + 1 < this.#retry.maxAttempts) {
          if (!(await this.#timers.sleep(backoffDelay(retries++, this.#retry)))) return;
          if (this.#closed) return;
          continue;
        }
        if (!error.retryable && flight.length > 1) {
          // appendBatch is atomic: nothing was written. Send the events one by one so only the culprit fails.
          this.#nextSeq = flight[0]!.producerSeq!;
          for (const item of flight) {
            item.producerSeq = undefined;
            item.alone = true;
          }
          return;
        }
        if (!error.retryable) {
          // A definitive rejection: the event is not in the log, so its producer seq is free again.
          this.#nextSeq = flight[0]!.producerSeq!;
        }
        // Out of retries, the outcome is unknown: the seqs stay used (a gap is repaired by the renumbering above).
        this.#queue.splice(0, flight.length);
        for (const item of flight) item.reject(error);
        return;
      }
      this.#queue.splice(0, flight.length);
      flight.forEach((item, i) => {
        const result = results[i];
        if (result) item.resolve(result);
        else item.reject(new StarciteError("protocol_error", "the server returned fewer results than events sent"));
      });
      return;
    }
  }
}
