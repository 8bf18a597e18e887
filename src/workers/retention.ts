import type { Sql } from "../db/client.ts";
import type { AdvisoryLocks } from "../db/locks.ts";
import { retentionDue, tenantsWithChangeRetention, trimChanges, trimSession } from "../db/retention.ts";
import type { Logger } from "../shared/logger.ts";
import { Rounds } from "./job.ts";

export interface RetentionOptions {
  /** Between rounds (default 10 s). */
  intervalMs?: number;
  /** Events deleted per statement, each in its own short transaction (default 500). */
  batchEvents?: number;
  /** Sessions looked at per round (default 100). */
  sessionsPerRound?: number;
}

/**
 * Applies retention policies: one process at a time (an advisory lock), one session at a time, in batches of
 * batchEvents, each its own transaction, so no statement holds locks for long and appends never wait (trim_session
 * does not touch the sessions' counter rows).
 */
export class RetentionWorker {
  readonly #rounds: Rounds;
  readonly #o: Required<RetentionOptions>;
  /** Events deleted since start (for tests and metrics). */
  deleted = 0;

  constructor(
    private readonly sql: Sql,
    private readonly locks: AdvisoryLocks,
    private readonly logger: Logger,
    options: RetentionOptions = {},
  ) {
    this.#o = { intervalMs: 10_000, batchEvents: 500, sessionsPerRound: 100, ...options };
    this.#rounds = new Rounds("retention", logger, this.#o.intervalMs, () => this.round());
  }

  start(): void {
    this.#rounds.start();
  }

  async round(): Promise<void> {
    if (!(await this.locks.check()) || !(await this.locks.tryLock("retention"))) return;
    for (const sessionId of await retentionDue(this.sql, this.#o.sessionsPerRound)) {
      for (let more = true; more;) {
        const r = await trimSession(this.sql, sessionId, this.#o.batchEvents);
        this.deleted += r.deleted;
        more = r.more;
      }
    }
    for (const tenantId of await tenantsWithChangeRetention(this.sql)) {
      while ((await trimChanges(this.sql, tenantId, this.#o.batchEvents)) >= this.#o.batchEvents);
    }
  }

  stop(): Promise<void> {
    return this.#rounds.stop();
  }
}
