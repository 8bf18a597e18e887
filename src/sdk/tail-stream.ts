import { createClient, type Client } from "graphql-ws";
import { backoffDelay, Timers, type ResolvedRetry } from "./backoff.ts";
import { StarciteError, toStarciteError } from "./errors.ts";
import { TAIL } from "./queries.ts";
import { fromGraphQLErrors } from "./transport.ts";
import { CloseCode, TERMINAL_CLOSE_CODES, type StarciteEvent, type TailBatch } from "./protocol.ts";

/** "replay": history (also what was missed while disconnected); "live": appended after the catch-up point. */
export type Phase = "replay" | "live";

export type TailStatus = "idle" | "connecting" | "replaying" | "live" | "reconnecting" | "closed" | "failed";

export interface CredentialProvider {
  /** The bearer credential (API key or session token), fetched on every (re)connect. */
  get(): string | undefined | Promise<string | undefined>;
  /** Called after `token_expired`; resolves true when `get()` now returns a fresh credential. */
  refresh?(): Promise<boolean>;
}

export interface TailStreamOptions {
  /** ws(s)://host/graphql */
  url: string;
  sessionId: string;
  /** Deliver events with seq > cursor (default 0: from the beginning). */
  cursor?: number;
  credential: CredentialProvider;
  /** A WebSocket class: the `ws` package in Node < 22; browsers and Node 22 have a global one. */
  webSocketImpl?: unknown;
  /** Reconnect backoff (maxAttempts counts consecutive failed connects; default unlimited). */
  retry: ResolvedRetry;
  /** Ping interval (default 10 s); a missing pong within pongTimeoutMs drops the socket and reconnects. */
  keepAliveMs?: number;
  pongTimeoutMs?: number;
  onEvents(events: StarciteEvent[], phase: Phase): void;
  /** The first catch-up point of this stream (after the replay, before anything live). */
  onCaughtUp?(cursor: number): void;
  onStatus?(status: TailStatus, detail?: { error?: StarciteError; retryInMs?: number }): void;
  /** A fatal error: the stream has stopped. */
  onError(error: StarciteError): void;
}

interface CloseLike {
  code: number;
  reason: string;
}

const isCloseLike = (value: unknown): value is CloseLike =>
  typeof value === "object" && value !== null && typeof (value as CloseLike).code === "number" && "reason" in value;

/** Turns whatever graphql-ws hands to `sink.error` (a CloseEvent, GraphQL errors, an Error) into a StarciteError. */
export function tailError(value: unknown): StarciteError {
  if (Array.isArray(value)) return fromGraphQLErrors(value as { message?: unknown; extensions?: Record<string, unknown> }[]);
  if (isCloseLike(value)) {
    // The server closes with "<code>: <message>" when it refuses the credential.
    const m = /^([a-z_]+): (.*)$/s.exec(value.reason ?? "");
    if (TERMINAL_CLOSE_CODES.has(value.code)) {
      if (m) return new StarciteError(m[1]!, m[2]!, { closeCode: value.code });
      return new StarciteError(
        value.code === CloseCode.Unauthorized ? "unauthorized" : value.code === CloseCode.Forbidden ? "forbidden_scope" : "protocol_error",
        value.reason || `the server closed the connection (${value.code})`,
        { closeCode: value.code },
      );
    }
    return new StarciteError("network_error", `connection closed (${value.code}${value.reason ? ` ${value.reason}` : ""})`, {
      closeCode: value.code,
    });
  }
  if (typeof value === "object" && value !== null && "type" in value && (value as { type: unknown }).type === "error") {
    // A DOM/ws ErrorEvent: the socket could not connect or broke.
    const message = (value as { message?: unknown }).message;
    return new StarciteError("network_error", typeof message === "string" && message ? message : "WebSocket error");
  }
  return toStarciteError(value);
}

let wsModule: Promise<unknown> | undefined;

/** The global WebSocket (browsers, Node >= 22), else the `ws` package, loaded only when needed. */
export async function resolveWebSocketImpl(given?: unknown): Promise<unknown> {
  if (given) return given;
  const global = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (global) return global;
  const name = "ws";
  wsModule ??= import(/* @vite-ignore */ /* webpackIgnore: true */ name).then(
    (m: { default?: unknown; WebSocket?: unknown }) => m.default ?? m.WebSocket,
  );
  return wsModule;
}

/**
 * One session's tail over graphql-ws that survives disconnects. graphql-ws's own retry would resubscribe
 * with the ORIGINAL variables (replaying from the first cursor), so the client is created with
 * `retryAttempts: 0` and this class owns reconnecting: every (re)subscribe sends the last delivered seq
 * as the cursor, and any event at or below it is dropped as a second wall. Each connection attempt gets
 * its own graphql-ws client; anything a stale one still emits is ignored.
 */
export class TailStream {
  readonly #o: TailStreamOptions;
  readonly #timers = new Timers();
  #cursor: number;
  #status: TailStatus = "idle";
  #attempt = 0;
  #failures = 0;
  #client: Client | undefined;
  #unsubscribe: (() => void) | undefined;
  #socket: unknown;
  #caughtUp = false;
  #refreshedSinceBatch = false;
  #stopped = false;
  /** Removes the "online" listener of a pending reconnect. */
  #offOnline: (() => void) | undefined;

  constructor(options: TailStreamOptions) {
    this.#o = options;
    this.#cursor = options.cursor ?? 0;
  }

  /** The last seq delivered. */
  get cursor(): number {
    return this.#cursor;
  }

  get status(): TailStatus {
    return this.#status;
  }

  start(): void {
    if (this.#stopped || this.#attempt > 0) return;
    void this.#connect();
  }

  /**
   * Runs a query or mutation over this tail's socket while it is connected (graphql-ws carries them too), or
   * returns null when it is not, so the caller goes over HTTP. A socket lost before the answer rejects with a
   * retryable network_error: the operation may or may not have run.
   */
  request<T>(query: string, variables: Record<string, unknown>): Promise<T> | null {
    const client = this.#client;
    if (this.#stopped || !client || this.#socket === undefined) return null;
    return new Promise<T>((resolve, reject) => {
      let data: T | undefined;
      let failed = false;
      const fail = (error: StarciteError) => {
        if (failed) return;
        failed = true;
        reject(error);
      };
      client.subscribe<T>(
        { query, variables },
        {
          next: (result) => {
            if (result.errors?.length) fail(fromGraphQLErrors(result.errors as never));
            else if (result.data) data = result.data as T;
          },
          error: (error) => {
            const e = tailError(error);
            // Whatever closed the socket, the operation's outcome is unknown: say so, retryably.
            fail(
              Array.isArray(error)
                ? e
                : new StarciteError("network_error", `the socket closed before the answer: ${e.message}`, { cause: error }),
            );
          },
          complete: () => {
            if (data !== undefined) resolve(data);
            else fail(new StarciteError("network_error", "the server ended the operation without an answer"));
          },
        },
      );
    });
  }

  /** Ends the stream: closes the socket and cancels pending reconnects. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#timers.cancelAll();
    this.#offOnline?.();
    this.#setStatus("closed");
    await this.#teardown();
  }

  #setStatus(status: TailStatus, detail?: { error?: StarciteError; retryInMs?: number }): void {
    if (this.#status === status && !detail) return;
    this.#status = status;
    this.#o.onStatus?.(status, detail);
  }

  async #teardown(): Promise<void> {
    const client = this.#client;
    const unsubscribe = this.#unsubscribe;
    const socket = this.#socket as { terminate?: () => void; readyState?: number } | undefined;
    this.#client = undefined;
    this.#unsubscribe = undefined;
    this.#socket = undefined;
    try {
      unsubscribe?.();
    } catch {
      // already gone
    }
    if (client) {
      try {
        await client.dispose();
      } catch {
        // already gone
      }
    }
    // A half-open socket would linger for ws's close timeout; cut it (Node's ws has terminate()).
    if (socket && typeof socket.terminate === "function" && socket.readyState !== 3) socket.terminate();
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    const attempt = ++this.#attempt;
    this.#setStatus(attempt === 1 ? "connecting" : "reconnecting");
    let webSocketImpl: unknown;
    try {
      webSocketImpl = await resolveWebSocketImpl(this.#o.webSocketImpl);
    } catch (error) {
      this.#fatal(new StarciteError("invalid_argument", `no WebSocket implementation: pass webSocketImpl (${String(error)})`));
      return;
    }
    if (this.#stopped || attempt !== this.#attempt) return;
    const keepAlive = this.#o.keepAliveMs ?? 10_000;
    const pongTimeout = this.#o.pongTimeoutMs ?? 10_000;
    let cancelPongTimer: (() => void) | undefined;
    let phaseLive = false;
    const client = createClient({
      url: this.#o.url,
      webSocketImpl,
      lazy: true,
      retryAttempts: 0,
      shouldRetry: () => false,
      keepAlive,
      connectionParams: async () => {
        const credential = await this.#o.credential.get();
        return credential ? { authorization: `Bearer ${credential}` } : {};
      },
      on: {
        connected: (socket) => {
          if (attempt === this.#attempt) this.#socket = socket;
        },
        ping: (received) => {
          if (received || attempt !== this.#attempt || keepAlive <= 0) return;
          cancelPongTimer?.();
          cancelPongTimer = this.#timers.after(pongTimeout, () =>
            this.#lost(attempt, new StarciteError("network_error", `no pong within ${pongTimeout} ms`)),
          );
        },
        pong: (received) => {
          if (received) cancelPongTimer?.();
        },
        closed: (event) => {
          cancelPongTimer?.();
          this.#lost(attempt, tailError(event));
        },
      },
    });
    this.#client = client;
    this.#unsubscribe = client.subscribe<{ tail: TailBatch }>(
      { query: TAIL, variables: { sessionId: this.#o.sessionId, cursor: this.#cursor } },
      {
        next: (result) => {
          if (attempt !== this.#attempt || this.#stopped) return;
          if (result.errors?.length) {
            this.#lost(attempt, fromGraphQLErrors(result.errors as never));
            return;
          }
          const batch = result.data?.tail;
          if (!batch) return;
          this.#failures = 0;
          this.#refreshedSinceBatch = false;
          // The second wall: never deliver a seq twice, whatever the server or a stale socket sends.
          const fresh = batch.events.filter((e) => e.seq > this.#cursor);
          if (fresh.length > 0 && fresh[0]!.seq !== this.#cursor + 1) {
            this.#lost(attempt, new StarciteError("protocol_error", `expected seq ${this.#cursor + 1}, got ${fresh[0]!.seq}`), true);
            return;
          }
          for (let i = 1; i < fresh.length; i++) {
            if (fresh[i]!.seq !== fresh[i - 1]!.seq + 1) {
              this.#lost(attempt, new StarciteError("protocol_error", `seq ${fresh[i - 1]!.seq} followed by ${fresh[i]!.seq}`), true);
              return;
            }
          }
          // The first live batch is the catch-up batch: what it carries is still history.
          const phase: Phase = batch.live && phaseLive ? "live" : "replay";
          if (fresh.length > 0) {
            this.#cursor = fresh[fresh.length - 1]!.seq;
            this.#o.onEvents(fresh, phase);
          }
          if (this.#stopped || attempt !== this.#attempt) return;
          if (batch.live && !phaseLive) {
            phaseLive = true;
            this.#setStatus("live");
            if (!this.#caughtUp) {
              this.#caughtUp = true;
              this.#o.onCaughtUp?.(this.#cursor);
            }
          } else if (!batch.live) {
            this.#setStatus("replaying");
          }
        },
        error: (error) => this.#lost(attempt, tailError(error)),
        complete: () => this.#lost(attempt, new StarciteError("network_error", "the server ended the subscription")),
      },
    );
  }

  /** The current attempt ended: reconnect after a backoff, refresh the credential, or give up. */
  #lost(attempt: number, error: StarciteError, forceRetry = false): void {
    if (attempt !== this.#attempt || this.#stopped) return;
    this.#attempt++; // every later callback of this attempt is stale from now on
    void this.#teardown();
    if (error.code === "token_expired" && this.#o.credential.refresh && !this.#refreshedSinceBatch) {
      this.#refreshedSinceBatch = true;
      this.#setStatus("reconnecting", { error });
      void this.#o.credential.refresh().then(
        (ok) => (ok ? this.#reconnectAfter(0) : this.#fatal(error)),
        (refreshError: unknown) => this.#fatal(toStarciteError(refreshError)),
      );
      return;
    }
    if (!forceRetry && !error.retryable) {
      this.#fatal(error);
      return;
    }
    if (this.#failures + 1 >= this.#o.retry.maxAttempts) {
      this.#fatal(error);
      return;
    }
    const delay = backoffDelay(this.#failures++, this.#o.retry);
    this.#setStatus("reconnecting", { error, retryInMs: Math.round(delay) });
    this.#reconnectAfter(delay);
  }

  #reconnectAfter(ms: number): void {
    if (this.#stopped) return;
    // A browser coming back online reconnects at once rather than sitting out the rest of its backoff.
    const events = globalThis as {
      addEventListener?: (type: string, fn: () => void) => void;
      removeEventListener?: (type: string, fn: () => void) => void;
    };
    const go = () => {
      cancel();
      this.#offOnline?.();
      void this.#connect();
    };
    const cancel = this.#timers.after(ms, go);
    if (ms > 0 && events.addEventListener) {
      events.addEventListener("online", go);
      this.#offOnline = () => {
        this.#offOnline = undefined;
        events.removeEventListener?.("online", go);
      };
    }
  }

  #fatal(error: StarciteError): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#timers.cancelAll();
    this.#offOnline?.();
    void this.#teardown();
    this.#setStatus("failed", { error });
    this.#o.onError(error);
  }
}
