import type { Sql } from "../db/client.ts";
import type { AppendBatcher } from "../live/batcher.ts";
import type { LiveHub } from "../live/hub.ts";
import type { Logger } from "../logger.ts";

/** What every resolver gets, built once per HTTP request or graphql-ws operation. */
export interface Context {
  sql: Sql;
  hub: LiveHub;
  batcher: AppendBatcher;
  logger: Logger;
  /** Tenant the caller acts for. */
  tenantId: string;
}
