import type { Sql } from "../../db/client.ts";
import type { NotificationListener, SessionAdvanced } from "../../db/listener.ts";
import * as db from "../../db/subscriptions.ts";
import type { Wake } from "../../db/subscriptions.ts";
import type { Logger } from "../../shared/logger.ts";
import type { WakeKeys } from "./keys.ts";
import { controlUrl, wakeStreamsJson } from "./wire.ts";

export interface DispatcherOptions {
  /** How often due work (expired leases, webhook retries) is looked for (default 1 s). */
  tickMs?: number;
  /** How long a webhook request may take (default 10 s). */
  webhookTimeoutMs?: number;
}

/**
 * Wakes subscriptions and delivers their webhooks. It follows the process's one LISTEN connection: when streams
 * advance, it asks SQL which idle subscriptions follow them and wakes each (one UPDATE decides, so several
 * processes can run this side by side); every tickMs it does what is due (leases that ran out, webhook retries,
 * a wake lost to a crash). A webhook answered with {"done": true} acks the wake at once. Pull-wake wakes need no
 * delivery: SQL wrote their wake events to the wake stream. Asleep while no subscription exists.
 */
export class WakeDispatcher {
  readonly #tickMs: number;
  readonly #timeoutMs: number;
  #active = false;
  #awoken = false;
  #checkedAt = 0;
  #pending = new Set<string>();
  #flushing = false;
  #timer: NodeJS.Timeout | null = null;
  #ticking = false;
  #stopped = false;
  readonly #onAdvanced = (n: SessionAdvanced) => {
    if (!this.#active) return;
    this.#pending.add(n.sessionId);
    if (!this.#flushing) setImmediate(() => void this.#flush());
  };

  constructor(
    private readonly sql: Sql,
    private readonly listener: NotificationListener,
    private readonly keys: WakeKeys,
    private readonly logger: Logger,
    options: DispatcherOptions = {},
  ) {
    this.#tickMs = options.tickMs ?? 1000;
    this.#timeoutMs = options.webhookTimeoutMs ?? 10_000;
  }

  start(): void {
    this.listener.on("advanced", this.#onAdvanced);
    this.#timer = setInterval(() => void this.#tick(), this.#tickMs);
    this.#timer.unref();
    void this.#tick();
  }

  stop(): void {
    this.#stopped = true;
    this.listener.off("advanced", this.#onAdvanced);
    if (this.#timer) clearInterval(this.#timer);
  }

  /** A subscription was created here: stop sleeping now rather than at the next check. */
  awake(): void {
    this.#active = true;
    this.#awoken = true;
  }

  /** Delivers wakes an operation issued (a release or an ack that found more work pending). */
  deliver(wakes: readonly Wake[]): void {
    for (const w of wakes) if (w.type === "webhook") void this.#send(w);
  }

  async #flush(): Promise<void> {
    if (this.#flushing || this.#stopped) return;
    this.#flushing = true;
    try {
      while (this.#pending.size > 0) {
        const ids = [...this.#pending];
        this.#pending.clear();
        for (const c of await db.wakeCandidates(this.sql, ids)) this.deliver(await db.wake(this.sql, c.id, c.tenantId));
      }
    } catch (error) {
      this.logger.warn("subscription wake failed", { error: String(error) });
    } finally {
      this.#flushing = false;
    }
  }

  async #tick(): Promise<void> {
    if (this.#ticking || this.#stopped) return;
    this.#ticking = true;
    try {
      // Whether any subscription exists (one created elsewhere included) is asked every ten ticks, not every tick.
      if (Date.now() - this.#checkedAt > 10 * this.#tickMs) {
        // A check that began before a subscription created here committed must not put the dispatcher to sleep.
        this.#awoken = false;
        const any = await db.anySubscriptions(this.sql);
        this.#active = any || this.#awoken;
        this.#checkedAt = Date.now();
      }
      if (!this.#active) return;
      for (const due of await db.dueSubscriptions(this.sql)) this.deliver(await db.tick(this.sql, due.id, due.tenantId));
    } catch (error) {
      this.logger.warn("subscription tick failed", { error: String(error) });
    } finally {
      this.#ticking = false;
    }
  }

  async #send(w: Wake): Promise<void> {
    if (!w.webhookUrl || this.#stopped) return;
    const grant = { tenantId: w.tenantId, subscriptionId: w.subscriptionId, wakeId: w.wakeId, generation: w.generation };
    const body = JSON.stringify({
      subscription_id: w.subscriptionId,
      wake_id: w.wakeId,
      generation: w.generation,
      streams: wakeStreamsJson(w),
      callback_url: controlUrl(w.baseUrl, `subscriptions/${encodeURIComponent(w.subscriptionId)}/callback`),
      callback_token: await this.keys.token(grant, "callback"),
    });
    let delivered = false;
    let done = false;
    try {
      const res = await fetch(w.webhookUrl, {
        method: "POST",
        headers: { "content-type": "application/json", "webhook-signature": this.keys.signature(body) },
        body,
        redirect: "error",
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      delivered = res.ok;
      if (res.ok) {
        const answer: unknown = await res.json().catch(() => null);
        done = typeof answer === "object" && answer !== null && (answer as { done?: unknown }).done === true;
      } else {
        await res.body?.cancel();
      }
    } catch (error) {
      this.logger.info("webhook delivery failed", { subscription: w.subscriptionId, attempt: w.attempt, error: String(error) });
    }
    try {
      this.deliver(await db.webhookResult(this.sql, grant, delivered, done));
    } catch (error) {
      this.logger.warn("recording a webhook result failed", { subscription: w.subscriptionId, error: String(error) });
    }
  }
}
