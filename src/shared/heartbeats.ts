/** Something that gets a heartbeat once per interval: a WebSocket to ping, an SSE response to write a comment to. */
export interface Beating {
  beat(): void;
}

/**
 * One timer for every open connection's heartbeat, with the connections spread evenly over the interval. The
 * interval is cut into slots, one per timer run; each connection joins the next slot in turn and gets its beat
 * whenever its slot comes round, so every connection beats exactly once per interval and a run touches one slot.
 *
 * Why not a timer per connection: with 10,000 sockets that was 20,000 timers, plus a timeout, a `once("pong")`
 * listener and their garbage per ping (~830 pings/s). Why not one timer that beats everything: a burst of 10,000
 * pings in one go stalls the event loop once per interval, delaying every delivery behind it.
 */
export class Heartbeats {
  readonly #slots: Set<Beating>[];
  readonly #tickMs: number;
  #next = 0;
  #tick = 0;
  #size = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(
    /** How often each member beats. */
    readonly intervalMs: number,
    /**
     * About how often the timer runs. Each run beats 1/(intervalMs/tickMs) of the members: 10,000 sockets pinged
     * every 12 s are ~170 pings per 200 ms run, a few milliseconds of the event loop at a time. Shorter runs cost
     * more wake-ups of an idle server (10,000 idle sockets, scenario 6: 0.06 server cores with 600 ms runs, 0.08-0.09
     * with 50 ms ones); longer ones hold every delivery behind a longer burst.
     */
    tickMs = 200,
  ) {
    const n = Math.max(1, Math.round(intervalMs / Math.max(1, tickMs)));
    this.#slots = Array.from({ length: n }, () => new Set());
    this.#tickMs = intervalMs / n;
  }

  /** Starts beating `member` (its first beat comes within one interval); returns what stops it. Idempotent stop. */
  add(member: Beating): () => void {
    const slot = this.#slots[this.#next]!;
    this.#next = (this.#next + 1) % this.#slots.length;
    slot.add(member);
    this.#size++;
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#beat(), this.#tickMs);
      this.#timer.unref();
    }
    return () => {
      if (!slot.delete(member)) return;
      if (--this.#size === 0) this.stop();
    };
  }

  /** Members beating now. */
  get size(): number {
    return this.#size;
  }

  /** Stops the timer (members added later start it again). */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #beat(): void {
    const slot = this.#slots[this.#tick]!;
    this.#tick = (this.#tick + 1) % this.#slots.length;
    // A beat may remove its own member (a connection cut for missing pongs): Set iteration allows that. One that
    // throws (a socket that broke under it) must not take the others' beats, or the process, with it.
    for (const member of slot) {
      try {
        member.beat();
      } catch {
        // Its connection's own close or error handling deals with it.
      }
    }
  }
}
