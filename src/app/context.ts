import type { Authenticator } from "../auth/authenticator.ts";
import type { AuthState } from "../auth/guard.ts";
import type { Sql } from "../db/client.ts";
import type { ChangeFeeds } from "../live/changes.ts";
import type { LiveHub } from "../live/hub.ts";
import type { AppendBatcher } from "../write/batcher.ts";

/**
 * What an operation needs, whichever transport called it (GraphQL resolvers, REST handlers, the tail
 * adapters): the data layer, the write and read paths, and who is calling.
 */
export interface AppContext {
  sql: Sql;
  hub: LiveHub;
  /** Wake-ups for lifecycle-feed readers. */
  changes: ChangeFeeds;
  batcher: AppendBatcher;
  authenticator: Authenticator;
  auth: AuthState;
  /** Whether webhook URLs may be http to localhost (outside production); see checkWebhookUrl. */
  allowLocalHttpWebhooks: boolean;
}
