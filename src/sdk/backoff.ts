/** Exponential backoff with jitter, and sleeps that `close()` can cut short. */

export interface RetryOptions {
  /** Attempts per operation before giving up, the first one included (appends default 30; tails retry forever). */
  maxAttempts?: number;
  /** First retry waits about this long (default 100 ms) ... */
  baseDelayMs?: number;
  /** ... doubling up to this cap (default 5000 ms). */
  maxDelayMs?: number;
}

export interface ResolvedRetry {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export function resolveRetry(options: RetryOptions | undefined, defaultAttempts: number): ResolvedRetry {
  return {
    maxAttempts: options?.maxAttempts ?? defaultAttempts,
    baseDelayMs: options?.baseDelayMs ?? 100,
    maxDelayMs: options?.maxDelayMs ?? 5000,
  };
}

/** Delay before retry number `retry` (0 = the first retry): base * 2^retry capped, then a random point in its upper half. */
export function backoffDelay(retry: number, options: ResolvedRetry): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.min(retry, 30));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Owns pending timers so a close can cancel every one of them. */
export class Timers {
  readonly #pending = new Map<ReturnType<typeof setTimeout>, () => void>();

  /** Resolves true after `ms`, or false as soon as `cancelAll()` runs. */
  sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const handle = setTimeout(() => {
        this.#pending.delete(handle);
        resolve(true);
      }, ms);
      this.#pending.set(handle, () => resolve(false));
    });
  }

  /** A plain callback timer; returns a canceller. */
  after(ms: number, fn: () => void): () => void {
    const handle = setTimeout(() => {
      this.#pending.delete(handle);
      fn();
    }, ms);
    this.#pending.set(handle, () => {});
    return () => {
      if (this.#pending.delete(handle)) clearTimeout(handle);
    };
  }

  cancelAll(): void {
    for (const [handle, cancel] of this.#pending) {
      clearTimeout(handle);
      cancel();
    }
    this.#pending.clear();
  }

  get size(): number {
    return this.#pending.size;
  }
}
