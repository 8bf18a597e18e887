import type { RetryOptions } from "./backoff.ts";
import { defaultCursorStore, type CursorStore } from "./cursor-store.ts";
import { isStarciteError, StarciteError } from "./errors.ts";
import * as Q from "./queries.ts";
import { makeIdentity, StarciteSession, type Identity } from "./session.ts";
import type { CredentialProvider } from "./tail-stream.ts";
import { decodeSessionToken } from "./token.ts";
import { GraphQLHttp, resolveEndpoints, type Endpoints, type FetchLike } from "./transport.ts";
import type {
  AppendEventInput,
  AppendResult,
  ApiKeyInfo,
  CreatedApiKey,
  CreatedWebhookEndpoint,
  EventPage,
  JsonObject,
  PrincipalType,
  RetentionPolicyInfo,
  SessionChangePage,
  SessionInfo,
  SessionTokenInfo,
  Viewer,
  WebhookDelivery,
  WebhookEndpointInfo,
} from "./protocol.ts";

export interface StarciteOptions {
  /** The server, e.g. "https://acme.starcite.io" (with or without /graphql). */
  baseUrl: string;
  /** An API key (sk_...), for backends. Browsers use session tokens instead: `starcite.session({ token })`. */
  apiKey?: string;
  /** How requests are sent. Defaults to node:http/https on Node (src/sdk/node-post.ts), else the global fetch. */
  fetch?: FetchLike;
  /** A WebSocket class; defaults to the global one, or the `ws` package in Node < 22. */
  webSocketImpl?: unknown;
  /** Per HTTP request (default 30 s). */
  requestTimeoutMs?: number;
  /** Append retries (default: 30 attempts, 100 ms doubling to 5 s, with jitter). */
  retry?: RetryOptions;
  /** Tail reconnects (default: unlimited, 100 ms doubling to 5 s, with jitter). */
  reconnect?: RetryOptions;
  /** Where sessions remember their cursor: default localStorage in browsers, a fresh memory store per session elsewhere. */
  cursorStore?: CursorStore;
  /** Lifetime of the session tokens `session({ identity })` mints (default 3600 s; re-minted when they expire). */
  tokenTtlSeconds?: number;
  /** Most queued appends sent in one request (default 100). */
  maxBatchSize?: number;
  /** WebSocket ping interval for tails (default 10 s). */
  keepAliveMs?: number;
  /**
   * Newest events a session handle keeps in memory for `events()`, `state()` and listeners added late (default
   * 1000; `Infinity` keeps all). A late listener gets older history paged from the server, so it still sees
   * every event once, in order.
   */
  retainEvents?: number;
}

interface CommonSessionOptions {
  /** Start after this seq instead of the stored cursor (0 = replay everything). */
  cursor?: number;
  /** Overrides the client's cursor store for this session. */
  cursorStore?: CursorStore;
  /** Producer id for this session's outbox (default: random per session object). Must not be shared by two live outboxes. */
  producerId?: string;
  /** Overrides the client's `retainEvents` for this session. */
  retainEvents?: number;
}

export interface TokenSessionOptions extends CommonSessionOptions {
  /** A session token minted by a backend (createSessionToken); the session id is read from it. */
  token: string;
  /** Called when the token expires; return a fresh one to continue. */
  refreshToken?: () => Promise<string>;
}

export interface BindSessionOptions extends CommonSessionOptions {
  token?: never;
  /** Act as this user or agent (a session token is minted for it); without it, the API key itself is used. */
  identity?: Identity;
  /** The session to create or bind; without it a new session with a generated id. */
  id?: string;
  /** For a session created here. */
  title?: string;
  metadata?: JsonObject;
  /** Create the session if it does not exist (default true). */
  create?: boolean;
  /** Scopes of the minted token (default session:read and session:append). */
  scopes?: string[];
}

interface TokenSessionEntry {
  session: StarciteSession;
  options: TokenSessionOptions;
  refresh: { current: (() => Promise<string>) | undefined };
}

function randomId(): string {
  const bytes = new Uint8Array(9);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The starcite client. With an API key (backends) it manages sessions, keys and tokens and hands out
 * sessions bound to an identity; with a session token (browsers) it hands out that token's session.
 */
export class Starcite {
  readonly endpoints: Endpoints;
  readonly #options: StarciteOptions;
  readonly #http: GraphQLHttp;
  readonly #tokenSessions = new Map<string, TokenSessionEntry>();

  constructor(options: StarciteOptions) {
    if (!options || typeof options.baseUrl !== "string")
      throw new StarciteError("invalid_argument", "new Starcite({ baseUrl }) needs a baseUrl");
    this.#options = options;
    this.endpoints = resolveEndpoints(options.baseUrl);
    this.#http = new GraphQLHttp({
      url: this.endpoints.http,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.requestTimeoutMs !== undefined ? { timeoutMs: options.requestTimeoutMs } : {}),
    });
  }

  /** A user identity: its session appends get actor "user:<id>". */
  user({ id }: { id: string }): Identity {
    return makeIdentity("user", id);
  }

  /** An agent identity: its session appends get actor "agent:<id>". */
  agent({ id }: { id: string }): Identity {
    return makeIdentity("agent", id);
  }

  /**
   * Browser side: a session from a token minted by your backend (synchronous; the token is not verified
   * here). The same token (with the same cursor, cursorStore and producerId) gives the same session object
   * until it is closed, so calling this in a render is safe.
   */
  session(options: TokenSessionOptions): StarciteSession;
  /** Backend side: creates the session (or binds an existing one) and, for an identity, mints its token. */
  session(options?: BindSessionOptions): Promise<StarciteSession>;
  session(options: TokenSessionOptions | BindSessionOptions = {}): StarciteSession | Promise<StarciteSession> {
    if (typeof options.token === "string") return this.#tokenSession(options as TokenSessionOptions);
    return this.#bindSession(options as BindSessionOptions);
  }

  #tokenSession(options: TokenSessionOptions): StarciteSession {
    // Called during a render (`starcite.session({ token })` in a component), so the same token must give
    // the same session: one tail and one outbox, not one per render. The latest refreshToken wins.
    const cached = this.#tokenSessions.get(options.token);
    if (
      cached &&
      !cached.session.closed &&
      cached.options.cursor === options.cursor &&
      cached.options.producerId === options.producerId &&
      cached.options.cursorStore === options.cursorStore
    ) {
      if (options.refreshToken) cached.refresh.current = options.refreshToken;
      return cached.session;
    }
    const claims = decodeSessionToken(options.token);
    let token = options.token;
    const refresh: TokenSessionEntry["refresh"] = { current: options.refreshToken };
    const credential: CredentialProvider = {
      get: () => token,
      refresh: async () => {
        if (!refresh.current) return false;
        token = await refresh.current();
        return true;
      },
    };
    const identity = claims.principal ? makeIdentity(claims.principal.type, claims.principal.id) : undefined;
    const session = this.#newSession(claims.sessionId, identity, credential, options);
    for (const [key, other] of this.#tokenSessions) if (other.session.closed) this.#tokenSessions.delete(key);
    this.#tokenSessions.set(options.token, { session, options, refresh });
    return session;
  }

  async #bindSession(options: BindSessionOptions): Promise<StarciteSession> {
    const apiKey = this.#requireApiKey("session({ identity, id })");
    let id = options.id;
    if (options.create !== false) {
      try {
        const created = await this.createSession({
          ...(id !== undefined ? { id } : {}),
          ...(options.title !== undefined ? { title: options.title } : {}),
          ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
        });
        id = created.id;
      } catch (error) {
        // An existing session is bound, not an error; a key without session:create may still bind one.
        if (!(isStarciteError(error) && id !== undefined && (error.code === "session_exists" || error.code === "forbidden_scope")))
          throw error;
      }
    }
    if (id === undefined) throw new StarciteError("invalid_argument", "session({ create: false }) needs an id");
    const sessionId = id;
    const identity = options.identity;
    if (!identity) return this.#newSession(sessionId, undefined, { get: () => apiKey }, options);

    const scopes = options.scopes ?? ["session:read", "session:append"];
    const mint = () =>
      this.createSessionToken({
        sessionId,
        principal: { type: identity.type, id: identity.id },
        scopes,
        ttlSeconds: this.#options.tokenTtlSeconds ?? 3600,
      });
    let token = (await mint()).token;
    const credential: CredentialProvider = {
      get: () => token,
      refresh: async () => {
        token = (await mint()).token;
        return true;
      },
    };
    return this.#newSession(sessionId, identity, credential, options);
  }

  #newSession(id: string, identity: Identity | undefined, credential: CredentialProvider, options: CommonSessionOptions): StarciteSession {
    const o = this.#options;
    return new StarciteSession({
      id,
      identity,
      http: this.#http,
      wsUrl: this.endpoints.ws,
      credential,
      webSocketImpl: o.webSocketImpl,
      cursorStore: options.cursorStore ?? o.cursorStore ?? defaultCursorStore(),
      cursorKey: identity ? `${id}:${identity.actor}` : id,
      cursor: options.cursor,
      producerId: options.producerId ?? `${identity ? `${identity.actor}/` : ""}${randomId()}`,
      appendRetry: o.retry,
      reconnect: o.reconnect,
      maxBatchSize: o.maxBatchSize,
      keepAliveMs: o.keepAliveMs,
      retainEvents: options.retainEvents ?? o.retainEvents,
    });
  }

  #requireApiKey(what: string): string {
    if (!this.#options.apiKey) throw new StarciteError("unauthorized", `${what} needs an API key: new Starcite({ baseUrl, apiKey })`);
    return this.#options.apiKey;
  }

  /** A raw GraphQL request with the API key. */
  request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    return this.#http.request<T>(query, variables, this.#options.apiKey);
  }

  async createSession(input: { id?: string; title?: string; metadata?: JsonObject } = {}): Promise<SessionInfo> {
    return (await this.request<{ createSession: SessionInfo }>(Q.CREATE_SESSION, input)).createSession;
  }

  /** The session, or null when it does not exist. */
  async getSession(id: string): Promise<SessionInfo | null> {
    return (await this.request<{ session: SessionInfo | null }>(Q.GET_SESSION, { id })).session;
  }

  async listSessions(input: { limit?: number; after?: string; archived?: boolean } = {}): Promise<SessionInfo[]> {
    return (await this.request<{ sessions: SessionInfo[] }>(Q.LIST_SESSIONS, input)).sessions;
  }

  async updateSession(input: {
    id: string;
    title?: string;
    metadata?: JsonObject;
    archived?: boolean;
    expectedVersion?: number;
  }): Promise<SessionInfo> {
    return (await this.request<{ updateSession: SessionInfo }>(Q.UPDATE_SESSION, input)).updateSession;
  }

  /** Events with seq > after (one page of at most `limit`, 1..1000). */
  async readEvents(sessionId: string, input: { after?: number; limit?: number } = {}): Promise<EventPage> {
    return (await this.request<{ events: EventPage }>(Q.READ_EVENTS, { sessionId, ...input })).events;
  }

  /** One append, sent once (no outbox, no retry): for scripts. Sessions' `append()` is the reliable path. */
  async appendEvent(sessionId: string, event: AppendEventInput): Promise<AppendResult> {
    return (await this.request<{ append: AppendResult }>(Q.APPEND, { sessionId, event })).append;
  }

  async createSessionToken(input: {
    sessionId: string;
    principal: { type: PrincipalType; id: string };
    scopes?: string[];
    ttlSeconds?: number;
  }): Promise<SessionTokenInfo> {
    return (await this.request<{ createSessionToken: SessionTokenInfo }>(Q.CREATE_SESSION_TOKEN, input)).createSessionToken;
  }

  async createApiKey(input: { name: string; tenantId?: string; scopes?: string[]; expiresAt?: string }): Promise<CreatedApiKey> {
    return (await this.request<{ createApiKey: CreatedApiKey }>(Q.CREATE_API_KEY, input)).createApiKey;
  }

  async listApiKeys(input: { tenantId?: string } = {}): Promise<ApiKeyInfo[]> {
    return (await this.request<{ apiKeys: ApiKeyInfo[] }>(Q.LIST_API_KEYS, input)).apiKeys;
  }

  async revokeApiKey(id: string): Promise<ApiKeyInfo> {
    return (await this.request<{ revokeApiKey: ApiKeyInfo }>(Q.REVOKE_API_KEY, { id })).revokeApiKey;
  }

  /** Deletes a session and its events; returns what it was. */
  async deleteSession(id: string): Promise<SessionInfo> {
    return (await this.request<{ deleteSession: SessionInfo }>(Q.DELETE_SESSION, { id })).deleteSession;
  }

  /**
   * One page of the tenant's lifecycle feed: session changes with seq > after, in commit order. Keep `nextCursor`
   * (e.g. in your database) and pass it as `after` next time, after a restart too: nothing is missed.
   */
  async sessionChanges(input: { after?: number; limit?: number } = {}): Promise<SessionChangePage> {
    return (await this.request<{ sessionChanges: SessionChangePage }>(Q.SESSION_CHANGES, input)).sessionChanges;
  }

  /** Creates a webhook endpoint; the signing secret is returned here once (`verifyWebhook` checks deliveries with it). */
  async createWebhookEndpoint(input: {
    url: string;
    sessionIds?: string[];
    types?: string[];
    events?: boolean;
    lifecycle?: boolean;
  }): Promise<CreatedWebhookEndpoint> {
    return (await this.request<{ createWebhookEndpoint: CreatedWebhookEndpoint }>(Q.CREATE_WEBHOOK_ENDPOINT, input)).createWebhookEndpoint;
  }

  async listWebhookEndpoints(): Promise<WebhookEndpointInfo[]> {
    return (await this.request<{ webhookEndpoints: WebhookEndpointInfo[] }>(Q.LIST_WEBHOOK_ENDPOINTS)).webhookEndpoints;
  }

  async updateWebhookEndpoint(
    id: string,
    input: {
      url?: string;
      sessionIds?: string[];
      types?: string[];
      events?: boolean;
      lifecycle?: boolean;
      enabled?: boolean;
      clearSessions?: boolean;
      clearTypes?: boolean;
    },
  ): Promise<WebhookEndpointInfo> {
    return (await this.request<{ updateWebhookEndpoint: WebhookEndpointInfo }>(Q.UPDATE_WEBHOOK_ENDPOINT, { id, ...input }))
      .updateWebhookEndpoint;
  }

  async deleteWebhookEndpoint(id: string): Promise<WebhookEndpointInfo> {
    return (await this.request<{ deleteWebhookEndpoint: WebhookEndpointInfo }>(Q.DELETE_WEBHOOK_ENDPOINT, { id })).deleteWebhookEndpoint;
  }

  /** An endpoint's deliveries, newest first; `status: "pending"` lists those still being retried. */
  async listWebhookDeliveries(
    endpointId: string,
    input: { status?: "pending" | "succeeded"; limit?: number } = {},
  ): Promise<WebhookDelivery[]> {
    return (await this.request<{ webhookDeliveries: WebhookDelivery[] }>(Q.LIST_WEBHOOK_DELIVERIES, { endpointId, ...input }))
      .webhookDeliveries;
  }

  /** The retention policy in force for a session (its own, else the tenant's), or the tenant's. */
  async getRetention(input: { sessionId?: string } = {}): Promise<RetentionPolicyInfo> {
    return (await this.request<{ retention: RetentionPolicyInfo }>(Q.GET_RETENTION, input)).retention;
  }

  async setRetention(input: {
    sessionId?: string;
    maxAgeSeconds?: number;
    maxEvents?: number;
    archive?: boolean;
  }): Promise<RetentionPolicyInfo> {
    return (await this.request<{ setRetention: RetentionPolicyInfo }>(Q.SET_RETENTION, input)).setRetention;
  }

  async clearRetention(input: { sessionId?: string } = {}): Promise<boolean> {
    return (await this.request<{ clearRetention: boolean }>(Q.CLEAR_RETENTION, input)).clearRetention;
  }

  async viewer(): Promise<Viewer> {
    return (await this.request<{ viewer: Viewer }>(Q.VIEWER)).viewer;
  }
}
