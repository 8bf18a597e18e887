import type { Sql } from "./client.ts";

/**
 * Session-level advisory locks held on one reserved connection, for background work that one process at a time
 * must do (an endpoint's deliveries, a session's archiving). A process that dies loses its connection and with it
 * its locks, so another process takes the work over without waiting for a lease to run out.
 */
export class AdvisoryLocks {
  #conn: Awaited<ReturnType<Sql["reserve"]>> | null = null;
  #held = new Set<string>();
  #lost = false;

  constructor(private readonly sql: Sql, private readonly namespace: number) {}

  /** False once the lock connection failed: every lock it held is gone, so stop the work and start again. */
  get healthy(): boolean {
    return !this.#lost;
  }

  async #connection() {
    if (!this.#conn) {
      this.#conn = await this.sql.reserve();
      this.#lost = false;
    }
    return this.#conn;
  }

  /** Tries to take the lock named `key` (without waiting); true when this process holds it. */
  async tryLock(key: string): Promise<boolean> {
    if (this.#held.has(key)) return true;
    try {
      const conn = await this.#connection();
      const [row] = await conn<{ ok: boolean }[]>`select pg_try_advisory_lock(${this.namespace}, hashtext(${key})) as ok`;
      if (row!.ok) this.#held.add(key);
      return row!.ok;
    } catch (error) {
      this.#fail();
      throw error;
    }
  }

  async unlock(key: string): Promise<void> {
    if (!this.#held.delete(key) || !this.#conn) return;
    try {
      await this.#conn`select pg_advisory_unlock(${this.namespace}, hashtext(${key}))`;
    } catch {
      this.#fail();
    }
  }

  /** Pings the lock connection; false (and every lock dropped) when it is gone. */
  async check(): Promise<boolean> {
    if (!this.#conn) return !this.#lost;
    try {
      await this.#conn`select 1`;
      return true;
    } catch {
      this.#fail();
      return false;
    }
  }

  held(): string[] {
    return [...this.#held];
  }

  #fail(): void {
    this.#lost = true;
    this.#held.clear();
    const conn = this.#conn;
    this.#conn = null;
    conn?.release();
  }

  /** Releases every lock (by returning the connection after unlocking all). */
  async close(): Promise<void> {
    const conn = this.#conn;
    this.#conn = null;
    this.#held.clear();
    if (!conn) return;
    try {
      await conn`select pg_advisory_unlock_all()`;
    } catch {
      // the connection is gone, and its locks with it
    }
    conn.release();
  }
}
