import { WebhookHeader } from "@starcite/sdk/protocol";
import type { Sql } from "../db/client.ts";
import type { NotificationListener } from "../db/listener.ts";
import type { AdvisoryLocks } from "../db/locks.ts";
import {
  webhookDeliveryResult,
  webhookDueSessions,
  webhookEndpointIds,
  webhookEndpointsDue,
  webhookNextDelivery,
  type DeliveryOutcome,
  type DeliveryRequest,
} from "../db/webhooks.ts";
import type { Logger } from "../shared/logger.ts";
import { Rounds } from "./job.ts";
import { signWebhook } from "./signature.ts";

export interface WebhookWorkerOptions {
  /** A round at least this often (retries that came due, missed hints); default 1 s. */
  intervalMs?: number;
  /** Items (events or session changes) per delivery (default 100). */
  maxItems?: number;
  /** Streams (endpoint × session) delivering at once in this process (default 16). */
  concurrency?: number;
  /** Per request (default 10 s): no answer by then is a failed attempt. */
  timeoutMs?: number;
  /** Retry backoff: retryBaseMs doubling per attempt up to retryMaxMs (default 1 s .. 1 h), +-20 % jitter. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Sessions looked at per endpoint per round (default 100). */
  sessionsPerRound?: number;
}

/**
 * Sends webhook deliveries. Each endpoint is served by one process at a time, the one holding its advisory lock
 * (a process that dies drops its lock connection, and another takes the endpoint over on its next round). What to
 * send and what was acknowledged is decided in SQL (webhook_next_delivery / webhook_delivery_result) from durable
 * per-endpoint cursors, so a restart resumes exactly where deliveries stopped: at least once, in order per session,
 * and exactly once while the receiver answers 2xx in time. Driven by the LISTEN hints and a periodic round, never by
 * the append path.
 */
export class WebhookWorker {
  readonly #rounds: Rounds;
  readonly #o: Required<WebhookWorkerOptions>;
  readonly #active = new Map<string, Promise<void>>();
  readonly #queue: (() => Promise<void>)[] = [];
  #running = 0;
  #stopped = false;
  /** Endpoints this process delivered for in its last round: with none, hints are ignored (rounds still run). */
  #serving = 0;
  /** Aborts requests in flight at stop: their deliveries stay pending and are sent again later. */
  readonly #abort = new AbortController();
  #unsubscribe: () => void = () => {};
  /** Attempts since start, by outcome. */
  readonly stats = { succeeded: 0, failed: 0 };

  constructor(
    private readonly sql: Sql,
    private readonly locks: AdvisoryLocks,
    private readonly logger: Logger,
    options: WebhookWorkerOptions = {},
  ) {
    this.#o = {
      intervalMs: 1000,
      maxItems: 100,
      concurrency: 16,
      timeoutMs: 10_000,
      retryBaseMs: 1000,
      retryMaxMs: 3_600_000,
      sessionsPerRound: 100,
      ...options,
    };
    this.#rounds = new Rounds("webhooks", logger, this.#o.intervalMs, () => this.round());
  }

  start(listener?: NotificationListener): void {
    if (listener) {
      // Appends wake the sender only in a process that serves an endpoint; new endpoints are found by the periodic round.
      const poke = () => {
        if (this.#serving > 0) this.#rounds.poke();
      };
      listener.on("advanced", poke);
      listener.on("changed", poke);
      listener.on("reconnected", poke);
      this.#unsubscribe = () => {
        listener.off("advanced", poke);
        listener.off("changed", poke);
        listener.off("reconnected", poke);
      };
    }
    this.#rounds.start();
  }

  async round(): Promise<void> {
    if (!(await this.locks.check())) return;
    const enabled = await webhookEndpointIds(this.sql);
    const wanted = new Set(enabled.map((id) => `webhook:${id}`));
    for (const key of this.locks.held()) {
      if (key.startsWith("webhook:") && !wanted.has(key) && ![...this.#active.keys()].some((k) => k.startsWith(`${key}\u0000`))) {
        await this.locks.unlock(key);
      }
    }
    const mine: string[] = [];
    for (const id of enabled) if (await this.locks.tryLock(`webhook:${id}`)) mine.push(id);
    this.#serving = mine.length;
    if (mine.length === 0) return;
    for (const { endpointId, changesDue } of await webhookEndpointsDue(this.sql, mine)) {
      if (changesDue) this.#startStream(endpointId, null);
      for (const sessionId of await webhookDueSessions(this.sql, endpointId, this.#o.sessionsPerRound)) {
        this.#startStream(endpointId, sessionId);
      }
    }
  }

  /** One stream delivers its batches one after another (order per session), until nothing is due or one fails. */
  #startStream(endpointId: string, sessionId: string | null): void {
    const key = `webhook:${endpointId}\u0000${sessionId ?? ""}`;
    if (this.#active.has(key) || this.#stopped) return;
    const done = new Promise<void>((resolve) => {
      this.#queue.push(async () => {
        try {
          for (;;) {
            if (this.#stopped || !this.locks.held().includes(`webhook:${endpointId}`)) break;
            const request = await webhookNextDelivery(this.sql, endpointId, sessionId, this.#o.maxItems);
            if (!request) break;
            const outcome = await this.#send(request);
            if (this.#abort.signal.aborted) break;
            await webhookDeliveryResult(this.sql, request.deliveryId, outcome, { baseMs: this.#o.retryBaseMs, maxMs: this.#o.retryMaxMs });
            if (outcome.ok) this.stats.succeeded++;
            else {
              this.stats.failed++;
              this.logger.info("webhook delivery failed; will retry", {
                deliveryId: request.deliveryId,
                attempt: request.attempt,
                status: outcome.status,
                error: outcome.error,
              });
              break;
            }
          }
        } catch (error) {
          this.logger.warn("webhook stream failed", { endpointId, sessionId, error: String(error) });
        } finally {
          this.#active.delete(key);
          resolve();
        }
      });
    });
    this.#active.set(key, done);
    this.#pump();
  }

  #pump(): void {
    while (this.#running < this.#o.concurrency && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      this.#running++;
      void job().finally(() => {
        this.#running--;
        this.#pump();
        // A stream that ended may have more behind it (it stops after each failure or when caught up).
        if (this.#queue.length === 0 && this.#running === 0) this.#rounds.poke();
      });
    }
  }

  async #send(request: DeliveryRequest): Promise<DeliveryOutcome> {
    const body = JSON.stringify(request.body);
    const t = Math.floor(Date.now() / 1000);
    try {
      const response = await fetch(request.url, {
        method: "POST",
        redirect: "manual",
        headers: {
          "content-type": "application/json",
          "user-agent": "starcite-webhooks",
          [WebhookHeader.Signature]: signWebhook(request.secret, body, t),
          [WebhookHeader.Delivery]: request.deliveryId,
          [WebhookHeader.Attempt]: String(request.attempt),
        },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(this.#o.timeoutMs), this.#abort.signal]),
      });
      await response.arrayBuffer().catch(() => undefined);
      return response.ok
        ? { ok: true, status: response.status, error: null }
        : { ok: false, status: response.status, error: `HTTP ${response.status}` };
    } catch (error) {
      const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
      const reason =
        e.name === "TimeoutError"
          ? `no answer within ${this.#o.timeoutMs} ms`
          : (e.cause?.code ?? e.cause?.message ?? e.message ?? String(error));
      return { ok: false, status: null, error: reason };
    }
  }

  /** Runs a round soon. */
  poke(): void {
    this.#rounds.poke();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    this.#unsubscribe();
    await this.#rounds.stop();
    await Promise.all(this.#active.values());
  }
}
