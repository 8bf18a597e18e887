import type { Authenticator } from "../auth/authenticator.ts";
import type { AuthState } from "../auth/guard.ts";
import type { Sql } from "../db/client.ts";
import type { AppendBatcher } from "../write/batcher.ts";
import type { ChangeFeeds } from "../live/changes.ts";
import type { LiveHub } from "../live/hub.ts";
import type { Logger } from "../shared/logger.ts";

/** What every resolver gets, built once per HTTP request or graphql-ws operation. */
export interface Context {
  sql: Sql;
  hub: LiveHub;
  changes: ChangeFeeds;
  batcher: AppendBatcher;
  logger: Logger;
  authenticator: Authenticator;
  /** Who is calling; guards in src/auth/guard.ts turn it into a principal or an error. */
  auth: AuthState;
  /** Whether webhook URLs may be http to localhost (outside production). */
  allowLocalHttpWebhooks: boolean;
}
