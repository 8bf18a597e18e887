import type http from "node:http";

/**
 * Counts HTTP responses in progress, so a graceful stop can let them reach their clients before cutting
 * connections (bounded by a timeout).
 */
export class InflightResponses {
  #count = 0;
  #settled: (() => void) | null = null;

  track(res: http.ServerResponse): void {
    this.#count++;
    res.once("close", () => {
      this.#count--;
      if (this.#count === 0) this.#settled?.();
    });
  }

  /** Resolves when none is in progress, or after `timeoutMs`. */
  settled(timeoutMs: number): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#settled = resolve;
      setTimeout(resolve, timeoutMs).unref();
    });
  }
}

/** The steps of a graceful stop, in order; each is awaited before the next. */
export interface StopSteps {
  /** Refuse new requests and upgrades (health says 503 from now on). */
  refuseNew(): void;
  /** Let appends already accepted commit and answer. */
  drainWrites(): Promise<void>;
  /** Close WebSockets (1001: clients resume elsewhere from their cursors) and end open tails. */
  closeStreams(): Promise<void>;
  /** Let HTTP responses in progress finish, then close every connection. */
  closeHttp(): Promise<void>;
  /** Release the LISTEN connection and the pool. */
  releaseDatabase(): Promise<void>;
}

export async function gracefulStop(steps: StopSteps): Promise<void> {
  steps.refuseNew();
  await steps.drainWrites();
  await steps.closeStreams();
  await steps.closeHttp();
  await steps.releaseDatabase();
}
