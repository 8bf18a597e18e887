import { AUTH_FAILURE_LIMITS } from "../shared/limits.ts";

export interface FailureLimit {
  /** Failures allowed per client within `windowMs` (0 turns the limit off). */
  failures: number;
  windowMs: number;
  trackedAddresses?: number;
}

/**
 * Failed authentications per client address in a sliding window. Once a client is over the limit, its
 * credentials are not even checked until the window frees up (so guessing keys costs it time, and the
 * database nothing). Memory is bounded: at most `failures` timestamps for at most `trackedAddresses` clients.
 */
export class FailureLimiter {
  readonly #limit: Required<FailureLimit>;
  readonly #failures = new Map<string, number[]>();

  constructor(limit: FailureLimit = AUTH_FAILURE_LIMITS) {
    this.#limit = { trackedAddresses: AUTH_FAILURE_LIMITS.trackedAddresses, ...limit };
  }

  /** Milliseconds until `client` may try again; 0 when it may now. */
  retryAfterMs(client: string, now = Date.now()): number {
    if (this.#limit.failures === 0) return 0;
    const times = this.#recent(client, now);
    if (times.length < this.#limit.failures) return 0;
    return times[times.length - this.#limit.failures]! + this.#limit.windowMs - now;
  }

  failed(client: string, now = Date.now()): void {
    if (this.#limit.failures === 0) return;
    const times = this.#recent(client, now);
    times.push(now);
    if (times.length > this.#limit.failures) times.splice(0, times.length - this.#limit.failures);
    // Re-insert, so Map order is least recently failed first.
    this.#failures.delete(client);
    this.#failures.set(client, times);
    while (this.#failures.size > this.#limit.trackedAddresses) this.#failures.delete(this.#failures.keys().next().value!);
  }

  #recent(client: string, now: number): number[] {
    const times = this.#failures.get(client);
    if (!times) return [];
    const fresh = times.filter((t) => t > now - this.#limit.windowMs);
    if (fresh.length === 0) this.#failures.delete(client);
    else if (fresh.length !== times.length) this.#failures.set(client, fresh);
    return fresh;
  }
}

/** The address failed authentications are counted against: the peer of the connection (no proxy headers are trusted). */
export const clientAddress = (req: { socket: { remoteAddress?: string | undefined } }): string => req.socket.remoteAddress ?? "unknown";

/** A Retry-After header value (whole seconds, at least 1) for a wait in milliseconds. */
export const retryAfterSeconds = (ms: number): string => String(Math.max(1, Math.ceil(ms / 1000)));
