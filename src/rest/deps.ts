import type { AppContext } from "../app/context.ts";
import type { Logger } from "../shared/logger.ts";
import type { TailStreams } from "./streams.ts";

/** What the REST adapters need from the server: the shared services, minus the per-request `auth`. */
export interface RestDeps extends Omit<AppContext, "auth"> {
  logger: Logger;
  /** True once the server is shutting down: new requests get 503 `shutting_down`. */
  closing(): boolean;
  streams: TailStreams;
  /** Largest request body read (default HTTP_LIMITS.bodyBytes). */
  maxBodyBytes?: number;
}
