import { StarciteError, toStarciteError } from "../db/errors.ts";

/**
 * Runs a read until it succeeds, retrying connection failures with backoff (50 ms doubling to 1 s) for at
 * most `outageMs` after the first failure; then (or at once, for any other error) it throws the error as a
 * StarciteError. A read that fails once on a pool connection killed under it (a failover, a pooler restart,
 * an idle reaper) therefore succeeds on the next one; only a real outage ends a tail.
 */
export async function readThroughOutage<T>(read: () => Promise<T>, outageMs: number, signal?: AbortSignal): Promise<T> {
  let firstFailure = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      const mapped = toStarciteError(error);
      const unavailable = mapped instanceof StarciteError && mapped.code === "database_unavailable";
      if (!unavailable) throw mapped;
      const now = Date.now();
      if (firstFailure === 0) firstFailure = now;
      if (now - firstFailure >= outageMs || signal?.aborted) {
        throw new StarciteError("database_unavailable", "the database is not reachable; resume from your cursor");
      }
      await pause(Math.min(50 * 2 ** attempt, 1000, outageMs - (now - firstFailure)), signal);
    }
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
