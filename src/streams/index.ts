import { sweepStreams } from "../db/streams.ts";
import type { Logger } from "../shared/logger.ts";
import type { Sql } from "../db/client.ts";

export { handleStreams } from "./handler.ts";
export { LiveResponses } from "./live.ts";
export { STREAMS_DEFAULTS, type StreamsDeps, type StreamsOptions } from "./deps.ts";
export { STREAMS_CORS } from "./protocol.ts";
export { WakeDispatcher } from "./subscriptions/dispatcher.ts";
export { WakeKeys } from "./subscriptions/keys.ts";

/**
 * Deletes the sessions of expired streams that nobody requests again (requests and new PUTs settle the ones they
 * meet), once a minute by default. Returns the function that stops it.
 */
export function startStreamSweeper(sql: Sql, logger: Logger, intervalMs = 60_000): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweepStreams(sql, 1000)
      .then((n) => {
        if (n > 0) logger.debug("expired streams settled", { streams: n });
      })
      .catch((error: unknown) => logger.warn("stream sweep failed", { error: String(error) }))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
