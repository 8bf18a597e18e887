import type { AppContext } from "../app/context.ts";
import type { Logger } from "../shared/logger.ts";
import type { LiveResponses } from "./live.ts";
import type { WakeDispatcher } from "./subscriptions/dispatcher.ts";
import type { WakeKeys } from "./subscriptions/keys.ts";

export interface StreamsOptions {
  /** How long an idle long-poll waits before answering 204 (default 20 s; STARCITE_STREAM_LONG_POLL_MS). */
  longPollMs?: number;
  /** How long one SSE response lasts before the server ends it, so clients reconnect (default 60 s). */
  sseMaxMs?: number;
  /** How often an idle SSE response gets a comment line (default 15 s). */
  heartbeatMs?: number;
  /** Webhook subscriptions may use http to localhost / 127.0.0.x (default: outside production). */
  allowLocalHttpWebhooks?: boolean;
}

export const STREAMS_DEFAULTS: Required<StreamsOptions> = {
  longPollMs: 20_000,
  sseMaxMs: 60_000,
  heartbeatMs: 15_000,
  allowLocalHttpWebhooks: process.env.NODE_ENV !== "production",
};

export interface SubscriptionDeps {
  keys: WakeKeys;
  dispatcher: WakeDispatcher;
  /** http webhooks to localhost / 127.0.0.x (development; off in production). */
  allowLocalHttp: boolean;
}

/** What the Durable Streams adapter needs from the server: the shared services, minus the per-request `auth`. */
export interface StreamsDeps extends Omit<AppContext, "auth"> {
  logger: Logger;
  /** True once the server is shutting down. */
  closing(): boolean;
  options: Required<StreamsOptions>;
  live: LiveResponses;
  subscriptions: SubscriptionDeps;
}
