import type { Logger } from "../shared/logger.ts";

/**
 * A background job that runs in rounds: every `intervalMs`, or sooner when poked, never two rounds at once. A
 * failed round is logged and the next one runs on schedule. Rounds never run on the request path.
 */
export class Rounds {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;

  constructor(
    private readonly name: string,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly round: () => Promise<void>,
    /** The shortest gap between two rounds when poked repeatedly. */
    private readonly minGapMs = 20,
  ) {}

  start(): void {
    this.#schedule(0);
  }

  /** Runs a round soon (coalesced with one already pending or running). */
  poke(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#schedule(this.minGapMs);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    if (this.#timer) {
      if (ms >= this.intervalMs) return;
      clearTimeout(this.#timer);
    }
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#run();
    }, ms);
    this.#timer.unref();
  }

  #run(): void {
    if (this.#running || this.#stopped) return;
    this.#again = false;
    this.#running = this.round()
      .catch((error: unknown) => this.logger.warn(`${this.name} round failed`, { error: String(error) }))
      .finally(() => {
        this.#running = null;
        this.#schedule(this.#again ? this.minGapMs : this.intervalMs);
      });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }
}
