import type {
  JsonObject,
  JsonValue,
  SessionChange,
  SessionChangeKind,
  StarciteEvent,
  WebhookDelivery,
  WebhookEndpointInfo,
} from "@starcite/sdk/protocol";

export type { JsonObject, JsonValue, SessionChange, SessionChangeKind, WebhookDelivery, WebhookEndpointInfo };

export interface Session {
  id: string;
  tenantId: string;
  title: string | null;
  metadata: JsonObject;
  lastSeq: number;
  version: number;
  archived: boolean;
  /** ISO-8601 with microseconds. */
  createdAt: string;
  updatedAt: string;
}

/** An event as stored and as every surface delivers it: the wire type, defined once in the SDK's protocol module. */
export type StoredEvent = StarciteEvent;

/** One event to append. `type` defaults to "content". */
export interface EventInput {
  type?: string | null;
  payload: JsonObject;
  actor?: string | null;
  source?: string | null;
  metadata?: JsonObject | null;
  refs?: JsonValue | null;
  idempotencyKey?: string | null;
  producerId?: string | null;
  producerSeq?: number | null;
  expectedSeq?: number | null;
}

export interface AppendResult {
  seq: number;
  lastSeq: number;
  deduped: boolean;
}
