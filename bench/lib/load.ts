/** Load shapes: sequential runs, N closed-loop workers, and an open-loop steady rate. */
import { Recorder, msSince, now } from "./stats.ts";

export interface LoadResult {
  latency: Recorder;
  /** Operations completed in the measured window. */
  ops: number;
  /** Measured window in seconds. */
  seconds: number;
  /** ops / seconds. */
  rate: number;
  errors: number;
  firstError?: unknown;
}

/** Runs `op` `warmup` times unmeasured, then `count` times one after another, timing each. */
export async function sequential(count: number, warmup: number, op: (i: number) => Promise<unknown>): Promise<LoadResult> {
  for (let i = 0; i < warmup; i++) await op(-1 - i);
  const latency = new Recorder(count);
  const t0 = now();
  let errors = 0;
  let firstError: unknown;
  for (let i = 0; i < count; i++) {
    const start = now();
    try {
      await op(i);
      latency.since(start);
    } catch (error) {
      errors++;
      firstError ??= error;
    }
  }
  const seconds = msSince(t0) / 1000;
  return { latency, ops: latency.count, seconds, rate: latency.count / seconds, errors, firstError };
}

/**
 * `workers` closed-loop clients, each calling `op(worker, i)` back to back. Runs `warmupMs` unmeasured, then
 * measures for `durationMs`; operations in flight when the window closes are awaited but not counted.
 */
export async function closedLoop(
  workers: number,
  durationMs: number,
  warmupMs: number,
  op: (worker: number, i: number) => Promise<unknown>,
): Promise<LoadResult> {
  const latency = new Recorder(1 << 14);
  let measuring = false;
  let stop = false;
  let errors = 0;
  let firstError: unknown;
  let ops = 0;
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; !stop; i++) {
      const start = now();
      const counted = measuring;
      try {
        await op(w, i);
        if (counted && !stop) {
          latency.since(start);
          ops++;
        }
      } catch (error) {
        errors++;
        firstError ??= error;
        if (errors > 1000) stop = true;
      }
    }
  });
  await sleep(warmupMs);
  measuring = true;
  const t0 = now();
  await sleep(durationMs);
  stop = true;
  const seconds = msSince(t0) / 1000;
  await Promise.all(loops);
  return { latency, ops, seconds, rate: ops / seconds, errors, firstError };
}

/**
 * An open-loop steady rate: operation i is started at t0 + i/rate whether or not earlier ones finished
 * (bounded by maxInFlight). `op` resolves when the operation's own call returns; delivery is measured by
 * the caller. Returns the achieved start rate.
 */
export async function openLoop(
  ratePerSec: number,
  durationMs: number,
  op: (i: number) => Promise<unknown>,
  maxInFlight = 10_000,
): Promise<{ started: number; seconds: number; errors: number; firstError?: unknown; lateStarts: number }> {
  const total = Math.max(1, Math.round((ratePerSec * durationMs) / 1000));
  const intervalNs = 1e9 / ratePerSec;
  const t0 = now();
  let started = 0;
  let inFlight = 0;
  let errors = 0;
  let lateStarts = 0;
  let firstError: unknown;
  const pending = new Set<Promise<unknown>>();
  while (started < total) {
    const due = Number(now() - t0) / intervalNs;
    while (started < total && started <= due && inFlight < maxInFlight) {
      if (due - started > 2) lateStarts++;
      const i = started++;
      inFlight++;
      const p: Promise<unknown> = op(i)
        .catch((error: unknown) => {
          errors++;
          firstError ??= error;
        })
        .finally(() => {
          inFlight--;
          pending.delete(p);
        });
      pending.add(p);
    }
    if (started >= total) break;
    const nextAtNs = started * intervalNs;
    const waitMs = (nextAtNs - Number(now() - t0)) / 1e6;
    // A timer, never a setImmediate spin: spinning until the next start burned most of a core in the bench process
    // at 1,000 starts/s (CPU the server and Postgres share). Timers fire ~1 ms late at best, so at high rates each
    // wake starts everything due since the last one (the loop above); latency counts from each actual start.
    await sleep(Math.max(1, waitMs));
  }
  const seconds = msSince(t0) / 1000;
  await Promise.all(pending);
  return { started, seconds, errors, firstError, lateStarts };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Resolves when `check()` is true, polling every `everyMs`; rejects after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs: number, what: string, everyMs = 5): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A 256-byte JSON payload object (its JSON text is exactly `bytes` long) that carries an index. */
export function payloadOf(i: number, bytes = 256): { i: number; pad: string } {
  const base = JSON.stringify({ i, pad: "" }).length;
  return { i, pad: "x".repeat(Math.max(0, bytes - base)) };
}

export function payloadText(i: number, bytes = 256): string {
  return JSON.stringify(payloadOf(i, bytes));
}

/** Several measured runs of one case (interleaved rounds) as one result: latencies merged, counts and times summed. */
export function combineResults(parts: LoadResult[]): LoadResult {
  const latency = new Recorder();
  let ops = 0;
  let seconds = 0;
  let errors = 0;
  let firstError: unknown;
  for (const p of parts) {
    latency.merge(p.latency);
    ops += p.ops;
    seconds += p.seconds;
    errors += p.errors;
    firstError ??= p.firstError;
  }
  return { latency, ops, seconds, rate: ops / seconds, errors, firstError };
}
