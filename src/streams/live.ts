import { Heartbeats } from "../shared/heartbeats.ts";

/** One open long-poll or SSE response, as the registry sees it. */
export interface LiveResponse {
  /** Ends it now (server shutdown). */
  stop(): void;
  /** Keeps an idle connection from being cut by proxies (SSE comments). */
  heartbeat?(): void;
}

/**
 * The open live responses of the Durable Streams adapter: their heartbeats (one timer, spread over the interval:
 * src/shared/heartbeats.ts), and ending them all when the server shuts down (long-polls answer 503, SSE streams
 * end; clients resume from their offsets).
 */
export class LiveResponses {
  readonly #open = new Set<LiveResponse>();
  readonly #heartbeats: Heartbeats;

  constructor(heartbeatMs: number) {
    this.#heartbeats = new Heartbeats(heartbeatMs);
  }

  add(response: LiveResponse): () => void {
    this.#open.add(response);
    const heartbeat = response.heartbeat?.bind(response);
    const stopBeating = heartbeat ? this.#heartbeats.add({ beat: heartbeat }) : () => {};
    return () => {
      this.#open.delete(response);
      stopBeating();
    };
  }

  get size(): number {
    return this.#open.size;
  }

  closeAll(): void {
    for (const r of [...this.#open]) r.stop();
    this.#heartbeats.stop();
  }
}
