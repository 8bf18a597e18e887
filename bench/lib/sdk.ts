/**
 * Load through the real SDK (@starcite/sdk): producers whose outboxes coalesce queued appends into one request
 * (`append`, or `appendBatch` of up to maxBatchSize), over HTTP or, once a session's tail is open, over its socket.
 * The bench's server runs with auth off, so any API key string is accepted.
 */
import WebSocket from "ws";
import { Starcite, type StarciteSession } from "@starcite/sdk";
import { Recorder, now } from "./stats.ts";
import { payloadOf, sleep } from "./load.ts";

export function sdkClient(serverUrl: string, options: { maxBatchSize?: number } = {}): Starcite {
  return new Starcite({
    baseUrl: serverUrl,
    apiKey: "sk_bench",
    webSocketImpl: WebSocket,
    retry: { maxAttempts: 1 },
    ...(options.maxBatchSize !== undefined ? { maxBatchSize: options.maxBatchSize } : {}),
  });
}

export interface WindowedResult {
  latency: Recorder;
  events: number;
  seconds: number;
  rate: number;
  errors: number;
  firstError?: unknown;
}

/**
 * Each session keeps `window` appends queued or in flight through its outbox (so every request carries up to
 * the client's maxBatchSize events), for `warmupMs` unmeasured and then `durationMs` measured. Latency is per
 * event, from append() to its result (queueing in the outbox included).
 */
export async function windowedAppends(
  sessions: StarciteSession[],
  window: number,
  durationMs: number,
  warmupMs: number,
): Promise<WindowedResult> {
  const latency = new Recorder(1 << 16);
  let measuring = false;
  let stop = false;
  let events = 0;
  let errors = 0;
  let firstError: unknown;
  let next = 0;
  const drained: Promise<void>[] = sessions.map(
    (session) =>
      new Promise<void>((resolve) => {
        let inFlight = 0;
        const pump = () => {
          while (!stop && inFlight < window) {
            inFlight++;
            const start = now();
            const counted = measuring;
            session
              .append({ type: "token", payload: payloadOf(next++) })
              .then(
                () => {
                  if (counted && !stop) {
                    latency.since(start);
                    events++;
                  }
                },
                (error: unknown) => {
                  errors++;
                  firstError ??= error;
                  if (errors > 1000) stop = true;
                },
              )
              .finally(() => {
                inFlight--;
                if (stop && inFlight === 0) resolve();
                else pump();
              });
          }
        };
        pump();
      }),
  );
  await sleep(warmupMs);
  measuring = true;
  const t0 = now();
  await sleep(durationMs);
  stop = true;
  const seconds = Number(now() - t0) / 1e9;
  await Promise.all(drained);
  return { latency, events, seconds, rate: events / seconds, errors, firstError };
}
