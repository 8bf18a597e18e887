import { forbidTokens, isToken, requirePrincipal, requireScope } from "../../auth/guard.ts";
import { describePrincipal, type Principal } from "../../auth/principal.ts";
import * as tokens from "../../app/tokens.ts";
import { StarciteError } from "../../db/errors.ts";
import { createApiKey, listApiKeys, revokeApiKey, type ApiKey } from "../../db/keys.ts";
import { checkKeyName, checkOptionalText, checkText } from "../../write/validate.ts";
import { builder } from "../builder.ts";

const PrincipalTypeRef = builder.enumType("PrincipalType", { values: ["user", "agent"] as const });

const PrincipalInputRef = builder.inputType("PrincipalInput", {
  description: 'Who a session token speaks for; its appends get actor "<type>:<id>".',
  fields: (t) => ({
    type: t.field({ type: PrincipalTypeRef, required: true }),
    id: t.string({ required: true }),
  }),
});

const SessionTokenRef = builder.objectRef<{ token: string; expiresAt: Date }>("SessionToken").implement({
  fields: (t) => ({
    token: t.exposeString("token"),
    expiresAt: t.field({ type: "DateTime", resolve: (x) => x.expiresAt.toISOString() }),
  }),
});

const ApiKeyRef = builder.objectRef<ApiKey>("ApiKey").implement({
  description: "An API key's record; the secret itself is shown once, at creation.",
  fields: (t) => ({
    id: t.exposeID("id"),
    tenantId: t.exposeString("tenantId"),
    name: t.exposeString("name"),
    keyPrefix: t.exposeString("keyPrefix", { description: "The secret's first characters, to recognise it." }),
    scopes: t.exposeStringList("scopes"),
    createdAt: t.field({ type: "DateTime", resolve: (k) => k.createdAt }),
    expiresAt: t.field({ type: "DateTime", nullable: true, resolve: (k) => k.expiresAt }),
    revokedAt: t.field({ type: "DateTime", nullable: true, resolve: (k) => k.revokedAt }),
  }),
});

const CreatedApiKeyRef = builder.objectRef<{ key: ApiKey; secret: string }>("CreatedApiKey").implement({
  fields: (t) => ({
    key: t.field({ type: ApiKeyRef, resolve: (x) => x.key }),
    secret: t.exposeString("secret", { description: "The API key (sk_...). Store it now: it is not shown again." }),
  }),
});

const ViewerRef = builder.objectRef<Principal>("Viewer").implement({
  description: "The caller, as the server sees it.",
  fields: (t) => ({
    kind: t.string({ description: "service, user, agent or external.", resolve: (p) => p.kind }),
    id: t.string({ resolve: (p) => describePrincipal(p) }),
    tenantId: t.exposeString("tenantId"),
    scopes: t.stringList({ resolve: (p) => [...p.scopes].sort() }),
    sessionId: t.string({ nullable: true, resolve: (p) => (isToken(p) ? p.sessionId : null) }),
    expiresAt: t.field({
      type: "DateTime",
      nullable: true,
      resolve: (p) => (p.expiresAt === null ? null : new Date(p.expiresAt).toISOString()),
    }),
  }),
});

/** The tenant a key-admin call targets: its own, or (with the admin scope) any. */
function adminTenant(p: Principal, requested: string | null | undefined): string {
  checkOptionalText(requested, "tenant_id", "invalid_argument");
  if (requested == null || requested === p.tenantId) return p.tenantId;
  if (!p.scopes.has("admin")) {
    throw new StarciteError("forbidden_scope", "managing another tenant's keys needs the admin scope", { required: ["admin"] });
  }
  return requested;
}

builder.queryFields((t) => ({
  viewer: t.field({
    type: ViewerRef,
    description: "Who the credential belongs to.",
    resolve: (_root, _args, ctx) => requirePrincipal(ctx.auth),
  }),
  apiKeys: t.field({
    type: [ApiKeyRef],
    description: "API keys of your tenant (keys:admin), or of `tenantId` (admin).",
    args: { tenantId: t.arg.string() },
    resolve: (_root, args, ctx) => {
      const p = requireScope(ctx.auth, "keys:admin");
      forbidTokens(p, "manage keys");
      return listApiKeys(ctx.sql, adminTenant(p, args.tenantId));
    },
  }),
}));

builder.mutationFields((t) => ({
  createSessionToken: t.field({
    type: SessionTokenRef,
    description:
      "Mints a session token (a signed JWT) for a browser or agent: pinned to one session and one principal, with at most the scopes the calling API key holds (session:read, session:append).",
    args: {
      sessionId: t.arg.id({ required: true }),
      principal: t.arg({ type: PrincipalInputRef, required: true }),
      scopes: t.arg.stringList(),
      ttlSeconds: t.arg.int({ defaultValue: tokens.DEFAULT_TOKEN_TTL_SECONDS }),
    },
    resolve: (_root, args, ctx) =>
      tokens.mint(ctx, { sessionId: String(args.sessionId), principal: args.principal, scopes: args.scopes, ttlSeconds: args.ttlSeconds }),
  }),
  createApiKey: t.field({
    type: CreatedApiKeyRef,
    description: "Creates an API key in your tenant (keys:admin), or in `tenantId`, created if new (admin).",
    args: {
      name: t.arg.string({ required: true }),
      tenantId: t.arg.string(),
      scopes: t.arg.stringList(),
      expiresAt: t.arg({ type: "DateTime" }),
    },
    resolve: (_root, args, ctx) => {
      const p = requireScope(ctx.auth, "keys:admin");
      forbidTokens(p, "manage keys");
      const tenantId = adminTenant(p, args.tenantId);
      const scopes = (args.scopes ?? null) as string[] | null;
      checkKeyName(args.name);
      for (const scope of scopes ?? []) checkText(scope, "scopes", "invalid_argument", 64);
      return createApiKey(ctx.sql, { tenantId, name: args.name, scopes, expiresAt: args.expiresAt ?? null, creatorScopes: [...p.scopes] });
    },
  }),
  revokeApiKey: t.field({
    type: ApiKeyRef,
    description: "Revokes a key of your tenant (any tenant's with admin). Takes effect at once.",
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const p = requireScope(ctx.auth, "keys:admin");
      forbidTokens(p, "manage keys");
      const id = checkText(String(args.id), "id", "invalid_argument");
      const key = await revokeApiKey(ctx.sql, id, p.scopes.has("admin") ? null : p.tenantId);
      ctx.authenticator.forgetKey(key.id);
      return key;
    },
  }),
}));
