import type { WebhookDelivery, WebhookEndpointInfo } from "@starcite/sdk";
import { bool, int, list, positionals, str, UsageError } from "./args.ts";
import type { Command, Context } from "./command.ts";

const JSON_OPTION = { json: { type: "boolean", description: "Print JSON (one object per line) for scripts" } } as const;
const line = (ctx: Context, text: string) => ctx.io.stdout(text + "\n");
const jsonLine = (ctx: Context, value: unknown) => ctx.io.stdout(JSON.stringify(value) + "\n");

function endpointLine(w: WebhookEndpointInfo): string {
  const what = [w.events ? "events" : null, w.lifecycle ? "session changes" : null].filter(Boolean).join(" + ");
  const filters = [w.sessionIds ? `sessions ${w.sessionIds.join(",")}` : null, w.types ? `types ${w.types.join(",")}` : null].filter(
    Boolean,
  );
  return `${w.id}  ${w.enabled ? "enabled " : "disabled"}  ${w.url}  ${what}${filters.length ? `  (${filters.join("; ")})` : ""}`;
}

function deliveryLine(d: WebhookDelivery): string {
  const what = d.sessionId ? `${d.sessionId} seq ${d.fromSeq}-${d.toSeq}` : `session changes ${d.fromSeq}-${d.toSeq}`;
  const last = d.lastStatus !== null ? `HTTP ${d.lastStatus}` : (d.lastError ?? "");
  const next = d.status === "pending" && d.nextAttemptAt ? `  next ${d.nextAttemptAt}` : "";
  return `${d.id}  ${d.status.padEnd(9)}  ${what}  ${d.items} item(s)  attempts ${d.attempts}${last ? `  last ${last}` : ""}${next}`;
}

const FILTER_OPTIONS = {
  session: {
    type: "string",
    multiple: true,
    value: "<ids>",
    description: "Only these sessions (comma-separated or repeated; default all)",
  },
  type: {
    type: "string",
    multiple: true,
    value: "<types>",
    description: "Only events of these types (comma-separated or repeated; default all)",
  },
} as const;

const webhooksCreate: Command = {
  name: "webhooks create",
  summary: "Create a webhook endpoint (prints its signing secret once)",
  usage: "<url> [--session <ids>] [--type <types>] [--no-events | --no-lifecycle]",
  description:
    "Events appended and session changes recorded from now on are POSTed to <url>, signed with the secret\n" +
    '(header starcite-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">). Needs tenant:admin.',
  options: {
    ...FILTER_OPTIONS,
    "no-events": { type: "boolean", description: "Do not send events (only session changes)" },
    "no-lifecycle": { type: "boolean", description: "Do not send session changes (only events)" },
    ...JSON_OPTION,
  },
  examples: [
    "starcite webhooks create https://example.com/hooks/starcite",
    "starcite webhooks create https://example.com/h --type tool_call --no-lifecycle",
  ],
  async run(ctx) {
    const [url] = positionals(ctx.p, ["url"]);
    const sessionIds = list(ctx.p, "session");
    const types = list(ctx.p, "type");
    const created = await ctx.client().createWebhookEndpoint({
      url: url!,
      ...(sessionIds ? { sessionIds } : {}),
      ...(types ? { types } : {}),
      events: !bool(ctx.p, "no-events"),
      lifecycle: !bool(ctx.p, "no-lifecycle"),
    });
    if (bool(ctx.p, "json")) {
      jsonLine(ctx, created);
      return 0;
    }
    line(ctx, created.secret);
    ctx.io.stderr(
      `Created webhook endpoint ${created.endpoint.id} for ${created.endpoint.url}. The signing secret above is shown only this once.\n`,
    );
    return 0;
  },
};

const webhooksList: Command = {
  name: "webhooks list",
  summary: "List webhook endpoints (secrets are never shown)",
  usage: "",
  options: { ...JSON_OPTION },
  examples: ["starcite webhooks list"],
  async run(ctx) {
    positionals(ctx.p, []);
    const endpoints = await ctx.client().listWebhookEndpoints();
    if (bool(ctx.p, "json")) for (const w of endpoints) jsonLine(ctx, w);
    else for (const w of endpoints) line(ctx, endpointLine(w));
    return 0;
  },
};

const webhooksUpdate: Command = {
  name: "webhooks update",
  summary: "Change, disable or re-enable a webhook endpoint",
  usage: "<endpoint-id> [--url <url>] [--enable | --disable] [--session <ids> | --all-sessions] [--type <types> | --all-types]",
  description: "Re-enabling resumes from the endpoint's cursors: nothing appended meanwhile is skipped.",
  options: {
    url: { type: "string", value: "<url>", description: "A new URL" },
    enable: { type: "boolean", description: "Send again" },
    disable: { type: "boolean", description: "Stop sending (deliveries wait)" },
    ...FILTER_OPTIONS,
    "all-sessions": { type: "boolean", description: "Drop the session filter" },
    "all-types": { type: "boolean", description: "Drop the type filter" },
    ...JSON_OPTION,
  },
  examples: ["starcite webhooks update whk_0123456789abcdef --disable", "starcite webhooks update whk_0123456789abcdef --all-types"],
  async run(ctx) {
    const [id] = positionals(ctx.p, ["endpoint-id"]);
    if (bool(ctx.p, "enable") && bool(ctx.p, "disable")) throw new UsageError("give either --enable or --disable, not both");
    const url = str(ctx.p, "url");
    const sessionIds = list(ctx.p, "session");
    const types = list(ctx.p, "type");
    const w = await ctx.client().updateWebhookEndpoint(id!, {
      ...(url !== undefined ? { url } : {}),
      ...(bool(ctx.p, "enable") ? { enabled: true } : bool(ctx.p, "disable") ? { enabled: false } : {}),
      ...(sessionIds ? { sessionIds } : {}),
      ...(types ? { types } : {}),
      clearSessions: bool(ctx.p, "all-sessions"),
      clearTypes: bool(ctx.p, "all-types"),
    });
    if (bool(ctx.p, "json")) jsonLine(ctx, w);
    else line(ctx, endpointLine(w));
    return 0;
  },
};

const webhooksDelete: Command = {
  name: "webhooks delete",
  summary: "Delete a webhook endpoint with its cursors and delivery records",
  usage: "<endpoint-id>",
  options: { ...JSON_OPTION },
  examples: ["starcite webhooks delete whk_0123456789abcdef"],
  async run(ctx) {
    const [id] = positionals(ctx.p, ["endpoint-id"]);
    const w = await ctx.client().deleteWebhookEndpoint(id!);
    if (bool(ctx.p, "json")) jsonLine(ctx, w);
    else line(ctx, `deleted ${w.id}`);
    return 0;
  },
};

const webhooksDeliveries: Command = {
  name: "webhooks deliveries",
  summary: "Show an endpoint's deliveries, newest first",
  usage: "<endpoint-id> [--pending | --succeeded] [--limit <n>]",
  options: {
    pending: { type: "boolean", description: "Only deliveries not yet acknowledged (being retried)" },
    succeeded: { type: "boolean", description: "Only acknowledged deliveries" },
    limit: { type: "string", value: "<n>", description: "At most n (1-1000, default 20)" },
    ...JSON_OPTION,
  },
  examples: ["starcite webhooks deliveries whk_0123456789abcdef --pending"],
  async run(ctx) {
    const [id] = positionals(ctx.p, ["endpoint-id"]);
    if (bool(ctx.p, "pending") && bool(ctx.p, "succeeded")) throw new UsageError("give either --pending or --succeeded, not both");
    const status = bool(ctx.p, "pending") ? "pending" : bool(ctx.p, "succeeded") ? "succeeded" : undefined;
    const deliveries = await ctx
      .client()
      .listWebhookDeliveries(id!, { ...(status ? { status } : {}), limit: int(ctx.p, "limit", 1) ?? 20 });
    if (bool(ctx.p, "json")) for (const d of deliveries) jsonLine(ctx, d);
    else for (const d of deliveries) line(ctx, deliveryLine(d));
    return 0;
  },
};

export const WEBHOOK_COMMANDS: Command[] = [webhooksCreate, webhooksList, webhooksUpdate, webhooksDelete, webhooksDeliveries];
