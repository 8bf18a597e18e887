import type { Sql } from "./client.ts";
import { mapErrors } from "./errors.ts";
import type { JsonObject, WebhookDelivery, WebhookEndpointInfo } from "./types.ts";

export interface WebhookEndpoint extends WebhookEndpointInfo {
  tenantId: string;
}

interface EndpointRow {
  id: string;
  tenant_id: string;
  url: string;
  session_ids: string[] | null;
  types: string[] | null;
  events: boolean;
  lifecycle: boolean;
  enabled: boolean;
  created_at: string;
  updated_at: string;
  secret?: string;
}

const toEndpoint = (r: EndpointRow): WebhookEndpoint => ({
  id: r.id,
  tenantId: r.tenant_id,
  url: r.url,
  sessionIds: r.session_ids,
  types: r.types,
  events: r.events,
  lifecycle: r.lifecycle,
  enabled: r.enabled,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  session_id: string | null;
  from_seq: number;
  to_seq: number;
  items: number;
  status: "pending" | "succeeded";
  attempts: number;
  next_attempt_at: string;
  last_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

const toDelivery = (r: DeliveryRow): WebhookDelivery => ({
  id: r.id,
  endpointId: r.endpoint_id,
  sessionId: r.session_id,
  fromSeq: r.from_seq,
  toSeq: r.to_seq,
  items: r.items,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.status === "pending" ? r.next_attempt_at : null,
  lastAttemptAt: r.last_attempt_at,
  lastStatus: r.last_status,
  lastError: r.last_error,
  createdAt: r.created_at,
  deliveredAt: r.delivered_at,
});

export interface WebhookEndpointInput {
  url?: string | null;
  sessionIds?: readonly string[] | null;
  types?: readonly string[] | null;
  events?: boolean | null;
  lifecycle?: boolean | null;
}

const textArray = (v: readonly string[] | null | undefined): string[] | null => (v ? [...v] : null);

/** Creates an endpoint; the secret is returned here once. */
export async function createWebhookEndpoint(
  sql: Sql,
  tenantId: string,
  input: WebhookEndpointInput,
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const [row] = await mapErrors(
    () => sql<EndpointRow[]>`
    select * from starcite.create_webhook_endpoint(${input.url ?? null}, ${textArray(input.sessionIds)}::text[],
      ${textArray(input.types)}::text[], ${input.events ?? true}, ${input.lifecycle ?? true}, ${tenantId})`,
  );
  return { endpoint: toEndpoint(row!), secret: row!.secret! };
}

export async function listWebhookEndpoints(sql: Sql, tenantId: string): Promise<WebhookEndpoint[]> {
  const rows = await mapErrors(() => sql<EndpointRow[]>`select * from starcite.list_webhook_endpoints(${tenantId})`);
  return rows.map(toEndpoint);
}

export interface UpdateWebhookEndpointInput extends WebhookEndpointInput {
  enabled?: boolean | null;
  /** Drop the session filter (all sessions again). */
  clearSessions?: boolean;
  /** Drop the type filter (all types again). */
  clearTypes?: boolean;
}

export async function updateWebhookEndpoint(
  sql: Sql,
  tenantId: string,
  id: string,
  input: UpdateWebhookEndpointInput,
): Promise<WebhookEndpoint> {
  const [row] = await mapErrors(
    () => sql<EndpointRow[]>`
    select * from starcite.update_webhook_endpoint(${id}, ${input.url ?? null}, ${textArray(input.sessionIds)}::text[],
      ${textArray(input.types)}::text[], ${input.events ?? null}, ${input.lifecycle ?? null}, ${input.enabled ?? null},
      ${input.clearSessions ?? false}, ${input.clearTypes ?? false}, ${tenantId})`,
  );
  return toEndpoint(row!);
}

export async function deleteWebhookEndpoint(sql: Sql, tenantId: string, id: string): Promise<WebhookEndpoint> {
  const [row] = await mapErrors(() => sql<EndpointRow[]>`select * from starcite.delete_webhook_endpoint(${id}, ${tenantId})`);
  return toEndpoint(row!);
}

export async function listWebhookDeliveries(
  sql: Sql,
  tenantId: string,
  endpointId: string,
  input: { status?: "pending" | "succeeded" | null; limit?: number },
): Promise<WebhookDelivery[]> {
  const rows = await mapErrors(
    () => sql<DeliveryRow[]>`
    select * from starcite.list_webhook_deliveries(${endpointId}, ${input.status ?? null}, ${input.limit ?? 100}, ${tenantId})`,
  );
  return rows.map(toDelivery);
}

// The sender's side (src/workers/webhooks.ts).

/** Every enabled endpoint, all tenants. */
export async function webhookEndpointIds(sql: Sql): Promise<string[]> {
  const rows = await mapErrors(() => sql<{ id: string }[]>`select id from starcite.webhook_endpoint_ids() as id`);
  return rows.map((r) => r.id);
}

/** Of these endpoints, the enabled ones, each with whether its session changes are due now. */
export async function webhookEndpointsDue(sql: Sql, ids: readonly string[]): Promise<{ endpointId: string; changesDue: boolean }[]> {
  const rows = await mapErrors(
    () => sql<{ endpoint_id: string; changes_due: boolean }[]>`
    select * from starcite.webhook_endpoints_due(${[...ids]}::text[])`,
  );
  return rows.map((r) => ({ endpointId: r.endpoint_id, changesDue: r.changes_due }));
}

/** Sessions with events the endpoint has yet to deliver (not in a retry backoff). */
export async function webhookDueSessions(sql: Sql, endpointId: string, maxSessions: number): Promise<string[]> {
  const rows = await mapErrors(
    () => sql<{ session_id: string }[]>`select session_id from starcite.webhook_due_sessions(${endpointId}, ${maxSessions})`,
  );
  return rows.map((r) => r.session_id);
}

export interface DeliveryRequest {
  deliveryId: string;
  url: string;
  secret: string;
  attempt: number;
  body: JsonObject;
}

/** The next delivery of a session's events (or, with sessionId null, of session changes), or null. */
export async function webhookNextDelivery(
  sql: Sql,
  endpointId: string,
  sessionId: string | null,
  maxItems: number,
): Promise<DeliveryRequest | null> {
  const [row] = await mapErrors(
    () => sql<{ delivery_id: string; url: string; secret: string; attempt: number; body: JsonObject }[]>`
    select * from starcite.webhook_next_delivery(${endpointId}, ${sessionId}, ${maxItems})`,
  );
  return row ? { deliveryId: row.delivery_id, url: row.url, secret: row.secret, attempt: row.attempt, body: row.body } : null;
}

export interface DeliveryOutcome {
  ok: boolean;
  status: number | null;
  error: string | null;
}

/** Records one attempt's answer; returns the delivery, or null when it had been recorded already. */
export async function webhookDeliveryResult(
  sql: Sql,
  deliveryId: string,
  outcome: DeliveryOutcome,
  backoff: { baseMs: number; maxMs: number },
): Promise<WebhookDelivery | null> {
  const [row] = await mapErrors(
    () => sql<DeliveryRow[]>`
    select * from starcite.webhook_delivery_result(${deliveryId}, ${outcome.ok}, ${outcome.status}, ${outcome.error},
      ${backoff.baseMs}, ${backoff.maxMs})`,
  );
  return row ? toDelivery(row) : null;
}
