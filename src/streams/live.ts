/** One open long-poll or SSE response, as the registry sees it. */
export interface LiveResponse {
  /** Ends it now (server shutdown). */
  stop(): void;
  /** Keeps an idle connection from being cut by proxies (SSE comments). */
  heartbeat?(): void;
}

/**
 * The open live responses of the Durable Streams adapter: one heartbeat timer for all of them, and ending them
 * all when the server shuts down (long-polls answer 503, SSE streams end; clients resume from their offsets).
 */
export class LiveResponses {
  readonly #open = new Set<LiveResponse>();
  #timer: NodeJS.Timeout | null = null;

  constructor(private readonly heartbeatMs: number) {}

  add(response: LiveResponse): () => void {
    this.#open.add(response);
    if (!this.#timer) {
      this.#timer = setInterval(() => {
        for (const r of this.#open) r.heartbeat?.();
      }, this.heartbeatMs);
      this.#timer.unref();
    }
    return () => {
      this.#open.delete(response);
      if (this.#open.size === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = null;
      }
    };
  }

  get size(): number {
    return this.#open.size;
  }

  closeAll(): void {
    for (const r of [...this.#open]) r.stop();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
