import * as webhooks from "../../app/webhooks.ts";
import type { WebhookDelivery } from "../../db/types.ts";
import type { WebhookEndpoint } from "../../db/webhooks.ts";
import { builder } from "../builder.ts";

const WebhookEndpointRef = builder.objectRef<WebhookEndpoint>("WebhookEndpoint").implement({
  description: "Where the tenant's events and session changes are POSTed, signed (the secret is shown once, at creation).",
  fields: (t) => ({
    id: t.exposeID("id"),
    url: t.exposeString("url"),
    sessionIds: t.exposeStringList("sessionIds", { nullable: true, description: "Only these sessions (null: all)." }),
    types: t.exposeStringList("types", { nullable: true, description: "Only events of these types (null: all)." }),
    events: t.exposeBoolean("events", { description: "Receives events." }),
    lifecycle: t.exposeBoolean("lifecycle", { description: "Receives session changes." }),
    enabled: t.exposeBoolean("enabled"),
    createdAt: t.field({ type: "DateTime", resolve: (w) => w.createdAt }),
    updatedAt: t.field({ type: "DateTime", resolve: (w) => w.updatedAt }),
  }),
});

const CreatedWebhookEndpointRef = builder.objectRef<{ endpoint: WebhookEndpoint; secret: string }>("CreatedWebhookEndpoint").implement({
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointRef, resolve: (x) => x.endpoint }),
    secret: t.exposeString("secret", { description: "The signing secret (whsec_...). Store it now: it is not shown again." }),
  }),
});

const DeliveryStatusRef = builder.enumType("WebhookDeliveryStatus", { values: ["pending", "succeeded"] as const });

const WebhookDeliveryRef = builder.objectRef<WebhookDelivery>("WebhookDelivery").implement({
  description: "One delivery: a batch of a session's events (or of session changes), sent until the endpoint answers 2xx.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "Sent as the starcite-delivery header; the same on every retry." }),
    endpointId: t.exposeID("endpointId"),
    sessionId: t.exposeID("sessionId", { nullable: true, description: "null: a batch of session changes." }),
    fromSeq: t.exposeInt("fromSeq"),
    toSeq: t.exposeInt("toSeq"),
    items: t.exposeInt("items"),
    status: t.field({ type: DeliveryStatusRef, resolve: (d) => d.status }),
    attempts: t.exposeInt("attempts"),
    nextAttemptAt: t.field({ type: "DateTime", nullable: true, resolve: (d) => d.nextAttemptAt }),
    lastAttemptAt: t.field({ type: "DateTime", nullable: true, resolve: (d) => d.lastAttemptAt }),
    lastStatus: t.exposeInt("lastStatus", { nullable: true, description: "The HTTP status of the last attempt (null: no answer)." }),
    lastError: t.exposeString("lastError", { nullable: true }),
    createdAt: t.field({ type: "DateTime", resolve: (d) => d.createdAt }),
    deliveredAt: t.field({ type: "DateTime", nullable: true, resolve: (d) => d.deliveredAt }),
  }),
});

builder.queryFields((t) => ({
  webhookEndpoints: t.field({
    type: [WebhookEndpointRef],
    description: "Your tenant's webhook endpoints (tenant:admin).",
    resolve: (_root, _args, ctx) => webhooks.list(ctx),
  }),
  webhookDeliveries: t.field({
    type: [WebhookDeliveryRef],
    description: "An endpoint's deliveries, newest first (tenant:admin); `status: pending` lists what is still being retried.",
    args: { endpointId: t.arg.id({ required: true }), status: t.arg({ type: DeliveryStatusRef }), limit: t.arg.int({ defaultValue: 100 }) },
    resolve: (_root, args, ctx) => webhooks.deliveries(ctx, String(args.endpointId), { status: args.status, limit: args.limit }),
  }),
}));

builder.mutationFields((t) => ({
  createWebhookEndpoint: t.field({
    type: CreatedWebhookEndpointRef,
    description: "Creates a webhook endpoint (tenant:admin). It receives what is appended and changed from now on.",
    args: {
      url: t.arg.string({ required: true }),
      sessionIds: t.arg.idList(),
      types: t.arg.stringList(),
      events: t.arg.boolean({ defaultValue: true }),
      lifecycle: t.arg.boolean({ defaultValue: true }),
    },
    resolve: (_root, args, ctx) =>
      webhooks.create(ctx, {
        url: args.url,
        sessionIds: args.sessionIds?.map(String) ?? null,
        types: args.types,
        events: args.events,
        lifecycle: args.lifecycle,
      }),
  }),
  updateWebhookEndpoint: t.field({
    type: WebhookEndpointRef,
    description: "Changes an endpoint (tenant:admin); omitted arguments stay. Re-enabling resumes from its cursors.",
    args: {
      id: t.arg.id({ required: true }),
      url: t.arg.string(),
      sessionIds: t.arg.idList({ description: "Replace the session filter; `clearSessions: true` removes it." }),
      types: t.arg.stringList({ description: "Replace the type filter; `clearTypes: true` removes it." }),
      events: t.arg.boolean(),
      lifecycle: t.arg.boolean(),
      enabled: t.arg.boolean(),
      clearSessions: t.arg.boolean({ defaultValue: false }),
      clearTypes: t.arg.boolean({ defaultValue: false }),
    },
    resolve: (_root, args, ctx) =>
      webhooks.update(ctx, String(args.id), {
        url: args.url,
        sessionIds: args.sessionIds?.map(String) ?? null,
        types: args.types,
        events: args.events,
        lifecycle: args.lifecycle,
        enabled: args.enabled,
        clearSessions: args.clearSessions ?? false,
        clearTypes: args.clearTypes ?? false,
      }),
  }),
  deleteWebhookEndpoint: t.field({
    type: WebhookEndpointRef,
    description: "Deletes an endpoint with its cursors and delivery records (tenant:admin).",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => webhooks.remove(ctx, String(args.id)),
  }),
}));
