import { EventEmitter } from "node:events";
import * as pgListen from "pg-listen";
import type { Options as PgListenOptions, Subscriber } from "pg-listen";
import type { ClientConfig } from "pg";

// pg-listen is CommonJS with `exports.default`; depending on the loader the factory is the default export or its `.default`.
type CreateSubscriber = (config: ClientConfig, options: PgListenOptions) => Subscriber;
const pgListenModule = pgListen as unknown as { default: CreateSubscriber | { default: CreateSubscriber } };
const createSubscriber: CreateSubscriber =
  typeof pgListenModule.default === "function" ? pgListenModule.default : pgListenModule.default.default;

/** The channel the events trigger notifies on; payload `{"session_id": "...", "last_seq": N}`. */
export const EVENTS_CHANNEL = "starcite_events";

/** The channel session changes notify on; payload `{"tenant_id": "...", "seq": N}`. */
export const CHANGES_CHANNEL = "starcite_changes";

export interface TenantChanged {
  tenantId: string;
  seq: number;
}

export interface SessionAdvanced {
  sessionId: string;
  lastSeq: number;
}

export interface ListenerEvents {
  /** A session's log reached `lastSeq` (a hint: re-read from your cursor). */
  advanced: [SessionAdvanced];
  /** A tenant's lifecycle feed reached `seq` (a hint: re-read from your cursor). */
  changed: [TenantChanged];
  /** The LISTEN connection is up again after a loss; notifications sent meanwhile are gone, so re-read. */
  reconnected: [];
  /** The LISTEN connection was lost; reconnecting. */
  disconnected: [];
}

export interface ListenerOptions {
  applicationName?: string;
  /** Retry delay for reconnect attempt n (default: 100 ms doubling to 2 s). */
  retryDelay?: (attempt: number) => number;
  /** Interval of pg-listen's liveness query on the LISTEN connection (default 10 s). */
  healthCheckMs?: number;
}

function parseHint(payload: unknown): SessionAdvanced | null {
  const p = payload as { session_id?: unknown; last_seq?: unknown } | null;
  if (!p || typeof p.session_id !== "string" || typeof p.last_seq !== "number") return null;
  return { sessionId: p.session_id, lastSeq: p.last_seq };
}

/**
 * The process's single LISTEN connection (pg-listen). Fans notifications out in memory as `advanced`
 * events, and says `reconnected` after every recovered connection loss so that readers catch up.
 */
export class NotificationListener extends EventEmitter<ListenerEvents> {
  #subscriber: Subscriber;
  #connected = false;
  #stopped = false;
  /** LISTEN is in place; only connection losses after this count as "reconnected". */
  #started = false;

  constructor(databaseUrl: string, options: ListenerOptions = {}) {
    super();
    this.setMaxListeners(0);
    this.#subscriber = createSubscriber(
      { connectionString: databaseUrl, application_name: options.applicationName ?? "starcite-listener" },
      {
        // Never give up: a server whose database comes back must resume without a restart.
        retryLimit: Infinity,
        retryTimeout: 0,
        retryInterval: options.retryDelay ?? ((attempt) => Math.min(100 * 2 ** attempt, 2000)),
        paranoidChecking: options.healthCheckMs ?? 10_000,
      },
    );
    this.#subscriber.notifications.on(EVENTS_CHANNEL, (payload: unknown) => {
      const hint = parseHint(payload);
      if (hint) this.emit("advanced", hint);
    });
    this.#subscriber.notifications.on(CHANGES_CHANNEL, (payload: unknown) => {
      const p = payload as { tenant_id?: unknown; seq?: unknown } | null;
      if (p && typeof p.tenant_id === "string" && typeof p.seq === "number") this.emit("changed", { tenantId: p.tenant_id, seq: p.seq });
    });
    this.#subscriber.events.on("reconnect", () => {
      if (this.#connected) {
        this.#connected = false;
        this.emit("disconnected");
      }
    });
    this.#subscriber.events.on("connected", () => {
      const wasDown = !this.#connected;
      this.#connected = true;
      if (wasDown && this.#started) this.emit("reconnected");
    });
    // Only reached if pg-listen gives up, which the options above rule out; keep the process alive regardless.
    this.#subscriber.events.on("error", () => {
      this.#connected = false;
    });
  }

  get connected(): boolean {
    return this.#connected && !this.#stopped;
  }

  async start(): Promise<void> {
    await this.#subscriber.connect();
    await this.#subscriber.listenTo(EVENTS_CHANNEL);
    await this.#subscriber.listenTo(CHANGES_CHANNEL);
    this.#started = true;
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#connected = false;
    await this.#subscriber.close().catch(() => {});
  }
}
