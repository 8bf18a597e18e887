import { forbidTokens, requireScope } from "../auth/guard.ts";
import type { Principal } from "../auth/principal.ts";
import * as db from "../db/webhooks.ts";
import type { WebhookDelivery } from "../db/types.ts";
import type { AppContext } from "./context.ts";
import { checkWebhookUrl } from "./webhook-url.ts";

/** Webhook endpoint management: backends of the tenant with tenant:admin. */

function admin(ctx: AppContext): Principal {
  const p = requireScope(ctx.auth, "tenant:admin");
  forbidTokens(p, "manage webhooks");
  return p;
}

export async function create(ctx: AppContext, input: db.WebhookEndpointInput): Promise<{ endpoint: db.WebhookEndpoint; secret: string }> {
  const p = admin(ctx);
  if (input.url != null) checkWebhookUrl(input.url, ctx.allowLocalHttpWebhooks, "url");
  return db.createWebhookEndpoint(ctx.sql, p.tenantId, input);
}

export function list(ctx: AppContext): Promise<db.WebhookEndpoint[]> {
  return db.listWebhookEndpoints(ctx.sql, admin(ctx).tenantId);
}

export async function update(ctx: AppContext, id: string, input: db.UpdateWebhookEndpointInput): Promise<db.WebhookEndpoint> {
  const p = admin(ctx);
  if (input.url != null) checkWebhookUrl(input.url, ctx.allowLocalHttpWebhooks, "url");
  return db.updateWebhookEndpoint(ctx.sql, p.tenantId, id, input);
}

export function remove(ctx: AppContext, id: string): Promise<db.WebhookEndpoint> {
  return db.deleteWebhookEndpoint(ctx.sql, admin(ctx).tenantId, id);
}

export function deliveries(
  ctx: AppContext,
  endpointId: string,
  input: { status?: "pending" | "succeeded" | null; limit?: number | null },
): Promise<WebhookDelivery[]> {
  return db.listWebhookDeliveries(ctx.sql, admin(ctx).tenantId, endpointId, { status: input.status ?? null, limit: input.limit ?? 100 });
}
