/**
 * starcite as a library: run the server in your own process, or call the SQL API through the typed data
 * layer. The client SDK is exported separately as `starcite/sdk`.
 */
export { startServer, type RunningServer, type ServerOptions } from "./server/index.ts";
export { loadConfig, type Config } from "./shared/config.ts";
export { createLogger, silentLogger, type Logger } from "./shared/logger.ts";
export { createPool, type Sql } from "./db/client.ts";
export { migrate, dbmate, MIGRATIONS_DIR } from "./db/migrate.ts";
export { prepareDatabase } from "./db/database.ts";
export { startEmbeddedPostgres, type EmbeddedPostgresHandle, type EmbeddedPostgresOptions } from "./db/embedded.ts";
export { createSession, getSession, listSessions, updateSession } from "./db/sessions.ts";
export { append, appendBatch, appendItems, read, type AddressedEvent, type AppendOutcome } from "./db/events.ts";
export { createApiKey, listApiKeys, revokeApiKey, type ApiKey } from "./db/keys.ts";
export { StarciteError, SQLSTATE_TO_CODE, type ErrorCode } from "./db/errors.ts";
export { NotificationListener, EVENTS_CHANNEL, type SessionAdvanced } from "./db/listener.ts";
export type { AppendResult, EventInput, JsonObject, JsonValue, Session, StoredEvent } from "./db/types.ts";
