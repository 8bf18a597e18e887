import {
  backoffDelay,
  resolveRetry,
  resolveEndpoints,
  Starcite,
  StarciteError,
  TailStream,
  type AppendEventInput,
  type JsonObject,
  type JsonValue,
} from "@starcite/sdk";
import { bool, int, json, list, positionals, str, UsageError, type OptionSpecs, type Parsed } from "./args.ts";
import { readCliConfig, writeCliConfig } from "./config-file.ts";
import { eventLine, keysTable, sessionDetails, sessionsTable } from "./output.ts";
import { maskSecret, resolveConfigDir, type CliSettings } from "./settings.ts";
import { WEBHOOK_COMMANDS } from "./webhooks.ts";

export type { Command, Context, Io } from "./command.ts";
import type { Command, Context } from "./command.ts";

const JSON_OPTION: OptionSpecs = { json: { type: "boolean", description: "Print JSON (one object per line) for scripts" } };

const ACTOR_OPTIONS: OptionSpecs = {
  agent: { type: "string", value: "<id>", description: "Write as agent:<id>" },
  user: { type: "string", value: "<id>", description: "Write as user:<id>" },
};

/** --agent drafter -> { type: "agent", id: "drafter" }; exactly one of them when `required`. */
function principalOf(p: Parsed, required: boolean): { type: "agent" | "user"; id: string } | undefined {
  const agent = str(p, "agent");
  const user = str(p, "user");
  if (agent !== undefined && user !== undefined) throw new UsageError("give either --agent or --user, not both");
  if (agent !== undefined) return { type: "agent", id: agent };
  if (user !== undefined) return { type: "user", id: user };
  if (required) throw new UsageError("missing --agent <id> or --user <id>");
  return undefined;
}

const line = (ctx: Context, text: string) => ctx.io.stdout(text + "\n");
const jsonLine = (ctx: Context, value: unknown) => ctx.io.stdout(JSON.stringify(value) + "\n");

// ---------------------------------------------------------------------------------------------------- config

const configSet: Command = {
  name: "config set",
  summary: "Save the endpoint or the API key",
  usage: "<endpoint|api-key> <value>",
  description: "Writes <config dir>/config.json (mode 0600). The endpoint may be given with or without /graphql.",
  options: {},
  examples: ["starcite config set endpoint https://acme.starcite.io", "starcite config set api-key $STARCITE_API_KEY"],
  async run(ctx) {
    const [key, value] = positionals(ctx.p, ["key", "value"]);
    const dir = resolveConfigDir(str(ctx.p, "config-dir"), ctx.io.env);
    const config = readCliConfig(dir);
    if (key === "endpoint") {
      resolveEndpoints(value!); // validates
      config.endpoint = value!.trim();
    } else if (key === "api-key" || key === "apiKey" || key === "api_key") {
      if (!value!.trim()) throw new UsageError("the API key is empty");
      config.apiKey = value!.trim();
    } else {
      throw new UsageError(`unknown setting ${JSON.stringify(key)}: use endpoint or api-key`);
    }
    writeCliConfig(dir, config);
    return 0;
  },
};

const configShow: Command = {
  name: "config show",
  summary: "Show the effective settings (the key masked)",
  usage: "",
  options: { ...JSON_OPTION },
  examples: ["starcite config show"],
  async run(ctx) {
    positionals(ctx.p, []);
    const s = ctx.settings();
    const masked = s.apiKey ? maskSecret(s.apiKey) : null;
    if (bool(ctx.p, "json")) {
      jsonLine(ctx, {
        configFile: s.configFile,
        endpoint: s.endpoint ?? null,
        endpointSource: s.endpointSource,
        apiKey: masked,
        apiKeySource: s.apiKeySource,
      });
      return 0;
    }
    const from = (source: string) => (source === "unset" ? "" : `  (${source === "env" ? "environment" : source})`);
    line(ctx, `config file: ${s.configFile}`);
    line(ctx, `endpoint:    ${s.endpoint ?? "(not set)"}${from(s.endpointSource)}`);
    line(ctx, `api-key:     ${masked ?? "(not set)"}${from(s.apiKeySource)}`);
    return 0;
  },
};

// ---------------------------------------------------------------------------------------------------- sessions

const create: Command = {
  name: "create",
  summary: "Create a session and print its id",
  usage: "[--id <id>] [--title <title>] [--metadata <json>]",
  options: {
    id: { type: "string", value: "<id>", description: "Session id (default: generated, ses_...)" },
    title: { type: "string", value: "<title>", description: "Title" },
    metadata: { type: "string", value: "<json>", description: "Metadata, a JSON object" },
    ...JSON_OPTION,
  },
  examples: ['starcite create --id ses_demo --title "Draft contract"', `starcite create --metadata '{"customer":"acme"}'`],
  async run(ctx) {
    positionals(ctx.p, []);
    const metadata = json(ctx.p, "metadata", { object: true }) as JsonObject | undefined;
    const id = str(ctx.p, "id");
    const title = str(ctx.p, "title");
    const session = await ctx
      .client()
      .createSession({ ...(id !== undefined ? { id } : {}), ...(title !== undefined ? { title } : {}), ...(metadata ? { metadata } : {}) });
    if (bool(ctx.p, "json")) jsonLine(ctx, session);
    else line(ctx, session.id);
    return 0;
  },
};

const sessionsList: Command = {
  name: "sessions list",
  summary: "List sessions (ordered by id)",
  usage: "[--limit <n>] [--after <id>] [--archived]",
  options: {
    limit: { type: "string", value: "<n>", description: "At most n sessions (1-1000, default 100)" },
    after: { type: "string", value: "<id>", description: "Start after this id (paging)" },
    archived: { type: "boolean", description: "List archived sessions instead" },
    ...JSON_OPTION,
  },
  examples: ["starcite sessions list", "starcite sessions list --limit 10 --after ses_demo --json"],
  async run(ctx) {
    positionals(ctx.p, []);
    const limit = int(ctx.p, "limit", 1);
    const after = str(ctx.p, "after");
    const sessions = await ctx.client().listSessions({
      ...(limit !== undefined ? { limit } : {}),
      ...(after !== undefined ? { after } : {}),
      archived: bool(ctx.p, "archived"),
    });
    if (bool(ctx.p, "json")) for (const s of sessions) jsonLine(ctx, s);
    else ctx.io.stdout(sessionsTable(sessions));
    return 0;
  },
};

const sessionsGet: Command = {
  name: "sessions get",
  summary: "Show one session",
  usage: "<session>",
  options: { ...JSON_OPTION },
  examples: ["starcite sessions get ses_demo"],
  async run(ctx) {
    const [id] = positionals(ctx.p, ["session"]);
    const session = await ctx.client().getSession(id!);
    if (!session) throw new StarciteError("session_not_found", `session ${id} does not exist`);
    if (bool(ctx.p, "json")) jsonLine(ctx, session);
    else ctx.io.stdout(sessionDetails(session));
    return 0;
  },
};

const sessionsUpdate: Command = {
  name: "sessions update",
  summary: "Change a session's title, metadata or archived flag",
  usage: "<session> [--title <title>] [--metadata <json>] [--archive|--unarchive] [--expected-version <n>]",
  options: {
    title: { type: "string", value: "<title>", description: "New title" },
    metadata: { type: "string", value: "<json>", description: "New metadata (replaces the old one whole)" },
    archive: { type: "boolean", description: "Archive the session" },
    unarchive: { type: "boolean", description: "Unarchive the session" },
    "expected-version": { type: "string", value: "<n>", description: "Fail with version_conflict unless the session is at this version" },
    ...JSON_OPTION,
  },
  examples: [
    'starcite sessions update ses_demo --title "Final contract"',
    "starcite sessions update ses_demo --archive --expected-version 2",
  ],
  async run(ctx) {
    const [id] = positionals(ctx.p, ["session"]);
    if (bool(ctx.p, "archive") && bool(ctx.p, "unarchive")) throw new UsageError("give either --archive or --unarchive");
    const title = str(ctx.p, "title");
    const metadata = json(ctx.p, "metadata", { object: true }) as JsonObject | undefined;
    const expectedVersion = int(ctx.p, "expected-version", 0);
    const archived = bool(ctx.p, "archive") ? true : bool(ctx.p, "unarchive") ? false : undefined;
    if (title === undefined && metadata === undefined && archived === undefined) {
      throw new UsageError("nothing to change: give --title, --metadata, --archive or --unarchive");
    }
    const session = await ctx.client().updateSession({
      id: id!,
      ...(title !== undefined ? { title } : {}),
      ...(metadata ? { metadata } : {}),
      ...(archived !== undefined ? { archived } : {}),
      ...(expectedVersion !== undefined ? { expectedVersion } : {}),
    });
    if (bool(ctx.p, "json")) jsonLine(ctx, session);
    else line(ctx, `${session.id} version=${session.version}`);
    return 0;
  },
};

// ---------------------------------------------------------------------------------------------------- events

const append: Command = {
  name: "append",
  summary: "Append one event and print its seq",
  usage: "<session> (--text <text> | --payload <json>) [--agent <id> | --user <id>] [options]",
  description:
    "Prints seq=<n> deduped=<bool>. With --producer-id and --producer-seq the append is idempotent: running the same\n" +
    "command again prints deduped=true and the same seq (and transient failures are retried).",
  options: {
    text: { type: "string", value: "<text>", description: 'The text (payload {"text": ...})' },
    payload: { type: "string", value: "<json>", description: "The payload, a JSON object (with --text, text is added to it)" },
    type: { type: "string", value: "<type>", description: "Event type (default content)" },
    ...ACTOR_OPTIONS,
    actor: { type: "string", value: "<actor>", description: "Any actor string, e.g. tool:search" },
    source: { type: "string", value: "<source>", description: "Source" },
    metadata: { type: "string", value: "<json>", description: "Metadata, a JSON object" },
    refs: { type: "string", value: "<json>", description: "References, any JSON" },
    "idempotency-key": { type: "string", value: "<key>", description: "Dedup key: a repeat with the same key is deduped" },
    "producer-id": { type: "string", value: "<id>", description: "Producer id (with --producer-seq)" },
    "producer-seq": { type: "string", value: "<n>", description: "Producer seq: the producer's previous + 1 (a repeat is deduped)" },
    "expected-seq": { type: "string", value: "<n>", description: "Append only if the session's last seq is n" },
    ...JSON_OPTION,
  },
  examples: [
    'starcite append ses_demo --agent drafter --text "Drafting clause 4.2..."',
    `starcite append ses_demo --user alice --type tool_call --payload '{"tool":"search","q":"clause 4.2"}'`,
    'starcite append ses_demo --agent drafter --text "step 1" --producer-id drafter-run-7 --producer-seq 1',
  ],
  async run(ctx) {
    const [sessionId] = positionals(ctx.p, ["session"]);
    const text = str(ctx.p, "text");
    const payloadArg = json(ctx.p, "payload", { object: true }) as JsonObject | undefined;
    if (text === undefined && payloadArg === undefined) throw new UsageError("missing --text <text> or --payload <json>");
    const principal = principalOf(ctx.p, false);
    const rawActor = str(ctx.p, "actor");
    if (principal && rawActor !== undefined) throw new UsageError("give --agent/--user or --actor, not both");
    const producerId = str(ctx.p, "producer-id");
    const producerSeq = int(ctx.p, "producer-seq", 1);
    if ((producerId === undefined) !== (producerSeq === undefined)) throw new UsageError("--producer-id and --producer-seq go together");
    const event: AppendEventInput = {
      type: str(ctx.p, "type") ?? "content",
      payload: { ...(payloadArg ?? {}), ...(text !== undefined ? { text } : {}) },
    };
    const actor = principal ? `${principal.type}:${principal.id}` : rawActor;
    if (actor !== undefined) event.actor = actor;
    const source = str(ctx.p, "source");
    if (source !== undefined) event.source = source;
    const metadata = json(ctx.p, "metadata", { object: true }) as JsonObject | undefined;
    if (metadata) event.metadata = metadata;
    const refs = json(ctx.p, "refs") as JsonValue | undefined;
    if (refs !== undefined) event.refs = refs;
    const idempotencyKey = str(ctx.p, "idempotency-key");
    if (idempotencyKey !== undefined) event.idempotencyKey = idempotencyKey;
    if (producerId !== undefined) {
      event.producerId = producerId;
      event.producerSeq = producerSeq!;
    }
    const expectedSeq = int(ctx.p, "expected-seq", 0);
    if (expectedSeq !== undefined) event.expectedSeq = expectedSeq;

    // Only an idempotent append may be retried: a retry of anything else could write the event twice.
    const idempotent = producerId !== undefined || idempotencyKey !== undefined;
    const retry = resolveRetry({ maxAttempts: idempotent ? 5 : 1, baseDelayMs: 200, maxDelayMs: 2000 }, 1);
    const client = ctx.client();
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await client.appendEvent(sessionId!, event);
        if (bool(ctx.p, "json")) jsonLine(ctx, result);
        else line(ctx, `seq=${result.seq} deduped=${result.deduped}`);
        return 0;
      } catch (error) {
        if (!(error instanceof StarciteError) || !error.retryable || attempt + 1 >= retry.maxAttempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, retry)));
      }
    }
  },
};

const tail: Command = {
  name: "tail",
  summary: "Print a session's events: history from --cursor, then live",
  usage: "<session> [--cursor <seq>] [--limit <n>] [--no-follow] [--json]",
  description:
    "One line per event: the actor's id in brackets, then the text (or the payload as JSON). Follows live until Ctrl-C;\n" +
    "reconnects by itself after a disconnect or a server restart and resumes after the last printed seq.",
  options: {
    cursor: { type: "string", value: "<seq>", description: "Start after this seq (default 0: from the beginning)" },
    limit: { type: "string", value: "<n>", description: "Stop after n events" },
    "no-follow": { type: "boolean", description: "Stop at the catch-up point instead of following live" },
    follow: { type: "boolean", description: "Follow live (the default)" },
    ...JSON_OPTION,
  },
  examples: ["starcite tail ses_demo --cursor 0 --limit 5", "starcite tail ses_demo --no-follow --json | jq .payload"],
  async run(ctx) {
    const [sessionId] = positionals(ctx.p, ["session"]);
    const cursor = int(ctx.p, "cursor", 0) ?? 0;
    const limit = int(ctx.p, "limit", 1);
    if (bool(ctx.p, "follow") && bool(ctx.p, "no-follow")) throw new UsageError("give either --follow or --no-follow");
    const follow = !bool(ctx.p, "no-follow");
    const asJson = bool(ctx.p, "json");
    const settings = ctx.settings();
    const endpoints = resolveEndpoints(requireEndpoint(settings));
    if (limit === 0) return 0;
    return new Promise<number>((resolve) => {
      let printed = 0;
      let done = false;
      const finish = (code: number) => {
        if (done) return;
        done = true;
        offInterrupt();
        void stream.stop().then(() => resolve(code));
      };
      // Ctrl-C is how a follow ends: exit 0.
      const offInterrupt = ctx.io.onInterrupt(() => finish(0));
      const stream = new TailStream({
        url: endpoints.ws,
        sessionId: sessionId!,
        cursor,
        credential: { get: () => settings.apiKey },
        retry: resolveRetry({ baseDelayMs: 250, maxDelayMs: 5000 }, Infinity),
        onEvents: (events) => {
          for (const event of events) {
            if (done) return;
            ctx.io.stdout((asJson ? JSON.stringify(event) : eventLine(event)) + "\n");
            printed++;
            if (limit !== undefined && printed >= limit) return finish(0);
          }
        },
        onCaughtUp: () => {
          if (!follow) finish(0);
        },
        onStatus: (status, detail) => {
          if (status === "reconnecting" && detail?.error && ctx.io.interactive) {
            ctx.io.stderr(`starcite: ${detail.error.code}: ${detail.error.message}; reconnecting after seq ${stream.cursor}\n`);
          }
        },
        onError: (error) => {
          if (done) return;
          ctx.io.stderr(`error: ${error.code}: ${error.message}\n`);
          finish(1);
        },
      });
      stream.start();
    });
  },
};

// ---------------------------------------------------------------------------------------------------- tokens and keys

const tokenCreate: Command = {
  name: "token create",
  summary: "Mint a session token for a browser or an agent",
  usage: "<session> (--agent <id> | --user <id>) [--scopes <scopes>] [--ttl <seconds>]",
  description: "Prints the token (a JWT pinned to the session and the principal; its appends get actor <type>:<id>).",
  options: {
    ...ACTOR_OPTIONS,
    scopes: {
      type: "string",
      multiple: true,
      value: "<scopes>",
      description: "session:read and/or session:append, comma-separated (default both)",
    },
    ttl: { type: "string", value: "<seconds>", description: "Lifetime in seconds (default 3600, at most 604800)" },
    ...JSON_OPTION,
  },
  examples: [
    "starcite token create ses_demo --user alice",
    "starcite token create ses_demo --agent drafter --scopes session:read --ttl 600",
  ],
  async run(ctx) {
    const [sessionId] = positionals(ctx.p, ["session"]);
    const principal = principalOf(ctx.p, true)!;
    const scopes = list(ctx.p, "scopes");
    const ttlSeconds = int(ctx.p, "ttl", 1);
    const token = await ctx.client().createSessionToken({
      sessionId: sessionId!,
      principal,
      ...(scopes ? { scopes } : {}),
      ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
    });
    if (bool(ctx.p, "json")) jsonLine(ctx, token);
    else line(ctx, token.token);
    return 0;
  },
};

const keysCreate: Command = {
  name: "keys create",
  summary: "Create an API key (prints the secret once)",
  usage: "--name <name> [--tenant <tenant>] [--scopes <scopes>] [--expires-at <iso>]",
  description:
    "Prints the secret (sk_...) on stdout; it is not shown again. The key's id and scopes go to stderr.\n" +
    "Another tenant than your key's own (created if new) needs the admin scope.",
  options: {
    name: { type: "string", value: "<name>", description: "A name to recognise it by" },
    tenant: { type: "string", value: "<tenant>", description: "Tenant (default: your key's tenant)" },
    scopes: {
      type: "string",
      multiple: true,
      value: "<scopes>",
      description:
        "Comma-separated subset of session:create, session:read, session:append, keys:admin, tenant:admin, admin\n(default session:create,session:read,session:append)",
    },
    "expires-at": { type: "string", value: "<iso>", description: "Expiry, an ISO-8601 timestamp" },
    ...JSON_OPTION,
  },
  examples: ["starcite keys create --tenant acme --name ci", "starcite keys create --name reader --scopes session:read"],
  async run(ctx) {
    positionals(ctx.p, []);
    const name = str(ctx.p, "name");
    if (name === undefined) throw new UsageError("missing --name <name>");
    const tenantId = str(ctx.p, "tenant");
    const scopes = list(ctx.p, "scopes");
    const expiresAt = str(ctx.p, "expires-at");
    const created = await ctx.client().createApiKey({
      name,
      ...(tenantId !== undefined ? { tenantId } : {}),
      ...(scopes ? { scopes } : {}),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    });
    if (bool(ctx.p, "json")) {
      jsonLine(ctx, created);
      return 0;
    }
    line(ctx, created.secret);
    const k = created.key;
    ctx.io.stderr(
      `Created key ${k.id} "${k.name}" in tenant ${k.tenantId} with scopes ${k.scopes.join(",")}` +
        `${k.expiresAt ? `, expiring ${k.expiresAt}` : ""}. The secret above is shown only this once.\n`,
    );
    return 0;
  },
};

const keysList: Command = {
  name: "keys list",
  summary: "List API keys (secrets are never shown)",
  usage: "[--tenant <tenant>]",
  options: { tenant: { type: "string", value: "<tenant>", description: "Another tenant's keys (admin)" }, ...JSON_OPTION },
  examples: ["starcite keys list", "starcite keys list --tenant acme --json"],
  async run(ctx) {
    positionals(ctx.p, []);
    const tenantId = str(ctx.p, "tenant");
    const keys = await ctx.client().listApiKeys(tenantId !== undefined ? { tenantId } : {});
    if (bool(ctx.p, "json")) for (const k of keys) jsonLine(ctx, k);
    else ctx.io.stdout(keysTable(keys));
    return 0;
  },
};

const keysRevoke: Command = {
  name: "keys revoke",
  summary: "Revoke an API key (takes effect at once)",
  usage: "<key-id>",
  options: { ...JSON_OPTION },
  examples: ["starcite keys revoke key_0123456789abcdef"],
  async run(ctx) {
    const [id] = positionals(ctx.p, ["key-id"]);
    const key = await ctx.client().revokeApiKey(id!);
    if (bool(ctx.p, "json")) jsonLine(ctx, key);
    else line(ctx, `revoked ${key.id}`);
    return 0;
  },
};

const whoami: Command = {
  name: "whoami",
  summary: "Show who the credential belongs to",
  usage: "",
  options: { ...JSON_OPTION },
  examples: ["starcite whoami"],
  async run(ctx) {
    positionals(ctx.p, []);
    const v = await ctx.client().viewer();
    if (bool(ctx.p, "json")) jsonLine(ctx, v);
    else {
      line(ctx, `${v.kind} ${v.id} in tenant ${v.tenantId}`);
      line(ctx, `scopes: ${v.scopes.join(" ") || "(none)"}`);
      if (v.sessionId) line(ctx, `session: ${v.sessionId}`);
      if (v.expiresAt) line(ctx, `expires: ${v.expiresAt}`);
    }
    return 0;
  },
};

export function requireEndpoint(settings: CliSettings): string {
  if (!settings.endpoint) {
    throw new StarciteError("no_endpoint", "no endpoint configured: run `starcite config set endpoint <url>` or set STARCITE_ENDPOINT");
  }
  return settings.endpoint;
}

export const COMMANDS: Command[] = [
  configSet,
  configShow,
  create,
  append,
  tail,
  sessionsList,
  sessionsGet,
  sessionsUpdate,
  tokenCreate,
  keysCreate,
  keysList,
  keysRevoke,
  ...WEBHOOK_COMMANDS,
  whoami,
];

/** Command groups (first word) and what they hold, for help. */
export const GROUPS: Record<string, string> = {
  config: "Endpoint and API key settings",
  sessions: "List, show and update sessions",
  token: "Session tokens",
  keys: "API keys",
  webhooks: "Webhook endpoints and their deliveries",
};
