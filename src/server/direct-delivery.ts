import type { RowBatch, TailBatch } from "../live/tail-iterator.ts";
import type { EncodedResult } from "./frames.ts";

/** Where one subscription's `next` messages go when the server writes them itself instead of graphql-ws. */
export interface NextSink {
  /**
   * Writes one `next` message carrying `payload`. True: the caller may write the next one now. False: the socket
   * holds its send-ahead allowance of unsent bytes (or has closed); `drained` is called once this message is out.
   */
  next(payload: EncodedResult, drained: () => void): boolean;
}

/** The tail as the driver needs it (TailIterator). */
export interface DrivableTail {
  poll(): RowBatch | undefined | null;
  park(wake: () => void): boolean;
  next(): Promise<IteratorResult<TailBatch, undefined>>;
  return(): Promise<IteratorResult<TailBatch, undefined>>;
}

/** A batch's shared payload: at once when the compiled encoder wrote it, later when graphql-js had to execute it. */
export type EncodeBatch = (batch: TailBatch) => EncodedResult | Promise<EncodedResult>;

/**
 * Direct delivery of a compiled `tail` subscription. graphql-ws iterates a subscription with `for await` and
 * writes each result through a chain of promises (our iterator's, the tail's, emit.next's, the socket adapter's)
 * and a JSON.stringify per message; with 10,000 subscribers that chain, and the garbage it leaves, cost several
 * times the socket writes themselves. Here the server runs the loop: a live batch is taken from the feed's ring
 * without a promise (`poll`), its payload is the one shared by every subscriber at that point, and the message is
 * written at once; a tail with nothing new parks one callback on its feed for its whole life. Catch-up reads, the
 * catch-up point and errors go through the tail's ordinary `next()`.
 *
 * graphql-ws sees an iterator that never yields: its first `next()` settles when the subscription ends, done
 * (the client completed it, the socket closed) or rejected with the tail's error, which graphql-ws sends as the
 * operation's `error` message after every `next` written here.
 */
export class DirectDelivery implements AsyncIterableIterator<never> {
  #ended = false;
  #parked = false;
  #draining = false;
  #settle: { resolve: (step: IteratorResult<never, undefined>) => void; reject: (error: unknown) => void } | null = null;

  constructor(
    private readonly tail: DrivableTail,
    private readonly encode: EncodeBatch,
    private readonly sink: NextSink,
    private readonly maskError: (error: unknown) => unknown,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<never, undefined>> {
    if (this.#ended || this.#settle) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.#settle = { resolve, reject };
      this.#run();
    });
  }

  async return(): Promise<IteratorResult<never, undefined>> {
    if (!this.#ended) this.#end();
    await this.tail.return();
    return { done: true, value: undefined };
  }

  async throw(error?: unknown): Promise<IteratorResult<never, undefined>> {
    await this.return();
    throw error;
  }

  /** Delivers every batch ready now; stops at a park (nothing new), a full socket, or a step only next() can take. */
  #run = (): void => {
    try {
      for (;;) {
        if (this.#ended) return;
        const batch = this.tail.poll();
        if (batch === undefined) {
          if (this.tail.park(this.#wake)) {
            this.#parked = true;
            return;
          }
          continue;
        }
        if (batch === null) {
          this.tail.next().then(this.#stepped, this.#fail);
          return;
        }
        if (!this.#deliver(batch)) return;
      }
    } catch (error) {
      this.#fail(error);
    }
  };

  #wake = (): void => {
    if (!this.#parked) return;
    this.#parked = false;
    this.#run();
  };

  #drained = (): void => {
    if (!this.#draining) return;
    this.#draining = false;
    this.#run();
  };

  #stepped = (step: IteratorResult<TailBatch, undefined>): void => {
    if (this.#ended) return;
    if (step.done) this.#end();
    else if (this.#deliver(step.value)) this.#run();
  };

  /** Writes one batch; false when the loop must wait (for the socket to drain, or for graphql-js to execute it). */
  #deliver(batch: TailBatch): boolean {
    const payload = this.encode(batch);
    if (payload instanceof Promise) {
      payload.then((p) => {
        if (!this.#ended && this.#write(p)) this.#run();
      }, this.#fail);
      return false;
    }
    return this.#write(payload);
  }

  #write(payload: EncodedResult): boolean {
    if (this.sink.next(payload, this.#drained)) return true;
    this.#draining = true;
    return false;
  }

  #fail = (error: unknown): void => {
    if (this.#ended) return;
    this.#ended = true;
    const settle = this.#settle;
    this.#settle = null;
    void this.tail.return();
    settle?.reject(this.maskError(error));
  };

  #end(): void {
    this.#ended = true;
    const settle = this.#settle;
    this.#settle = null;
    settle?.resolve({ done: true, value: undefined });
  }
}
