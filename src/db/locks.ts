import { createPool, type Sql } from "./client.ts";

/**
 * Session-level advisory locks on a connection of their own, for background work that one process at a time must
 * do (an endpoint's deliveries, the retention and archive rounds). A process that dies loses its connection and with
 * it its locks, so another process takes the work over at once, without waiting for a lease to run out. Every call
 * also reads the connection's backend pid: a different pid means the connection was replaced and every lock is gone.
 */
export class AdvisoryLocks {
  readonly #sql: Sql;
  #pid: number | null = null;
  #held = new Set<string>();

  constructor(
    databaseUrl: string,
    private readonly namespace: number,
  ) {
    this.#sql = createPool(databaseUrl, { max: 1, applicationName: "starcite-locks", fetchTypes: false });
  }

  #observe(pid: number): void {
    if (this.#pid !== null && pid !== this.#pid) this.#held.clear();
    this.#pid = pid;
  }

  #lost(): void {
    this.#held.clear();
    this.#pid = null;
  }

  /** Pings the lock connection; false (and every lock forgotten) when it is unreachable. */
  async check(): Promise<boolean> {
    try {
      const [row] = await this.#sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
      this.#observe(row!.pid);
      return true;
    } catch {
      this.#lost();
      return false;
    }
  }

  /** Tries to take the lock named `key` without waiting; true when this process holds it. */
  async tryLock(key: string): Promise<boolean> {
    if (this.#held.has(key)) return true;
    try {
      const [row] = await this.#sql<{ ok: boolean; pid: number }[]>`
        select pg_try_advisory_lock(${this.namespace}, hashtext(${key})) as ok, pg_backend_pid() as pid`;
      this.#observe(row!.pid);
      if (row!.ok) this.#held.add(key);
      return row!.ok;
    } catch (error) {
      this.#lost();
      throw error;
    }
  }

  async unlock(key: string): Promise<void> {
    if (!this.#held.delete(key)) return;
    try {
      await this.#sql`select pg_advisory_unlock(${this.namespace}, hashtext(${key}))`;
    } catch {
      this.#lost();
    }
  }

  held(): string[] {
    return [...this.#held];
  }

  /** Closes the lock connection, which releases every lock. */
  async close(): Promise<void> {
    this.#lost();
    await this.#sql.end({ timeout: 1 }).catch(() => {});
  }
}
