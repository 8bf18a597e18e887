/** Shapes of the starcite API as the SDK returns them (mirroring schema.graphql). */

import type { JsonObject, JsonValue, StoredEvent } from "../db/types.ts";

// Type-only: erased from the bundle, so the SDK still ships no server code.
export type { JsonObject, JsonValue };

/**
 * One entry of a session's log, as the GraphQL `Event` type delivers it: `seq` (1, 2, 3, ... without
 * gaps), `actor` (who wrote it, e.g. "agent:drafter"), `insertedAt` (ISO-8601, UTC, microseconds), ...
 */
export type StarciteEvent = StoredEvent;

export interface SessionInfo {
  id: string;
  title: string | null;
  metadata: JsonObject;
  lastSeq: number;
  version: number;
  archived: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface AppendResult {
  seq: number;
  /** True when this append was a retry of an event already in the log (the original seq is returned). */
  deduped: boolean;
  /** The session's last seq right after this append. */
  lastSeq: number;
}

/** The wire form of one event to append (the server's AppendInput). */
export interface AppendEventInput {
  type?: string;
  payload: JsonObject;
  actor?: string;
  source?: string;
  metadata?: JsonObject;
  refs?: JsonValue;
  idempotencyKey?: string;
  producerId?: string;
  producerSeq?: number;
  expectedSeq?: number;
}

export interface EventPage {
  events: StarciteEvent[];
  nextCursor: number;
  lastSeq: number;
}

export interface TailBatch {
  events: StarciteEvent[];
  cursor: number;
  live: boolean;
}

export type PrincipalType = "user" | "agent";

export interface SessionTokenInfo {
  token: string;
  expiresAt: string;
}

export interface ApiKeyInfo {
  id: string;
  tenantId: string;
  name: string;
  keyPrefix: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface CreatedApiKey {
  key: ApiKeyInfo;
  /** The secret (sk_...): shown once. */
  secret: string;
}

export interface Viewer {
  kind: string;
  id: string;
  tenantId: string;
  scopes: string[];
  sessionId: string | null;
  expiresAt: string | null;
}
