import { encodeSegment, segmentKey } from "../archive/format.ts";
import type { ObjectStore } from "../archive/store.ts";
import { archiveDue, archiveRange, recordArchiveSegment } from "../db/archive.ts";
import type { Sql } from "../db/client.ts";
import { read } from "../db/events.ts";
import type { AdvisoryLocks } from "../db/locks.ts";
import type { Logger } from "../shared/logger.ts";
import { Rounds } from "./job.ts";

export interface ArchiverOptions {
  intervalMs?: number;
  /** Events per archived object, at most 1000 (default 1000). */
  segmentEvents?: number;
  sessionsPerRound?: number;
}

/**
 * Copies expired events of sessions whose policy archives into the object store, one object per range, before
 * retention deletes them (trim_session never deletes past what is archived). One process at a time (an advisory
 * lock); a crash between upload and record just uploads the same object again next time.
 */
export class Archiver {
  readonly #rounds: Rounds;
  readonly #o: Required<ArchiverOptions>;
  /** Objects written since start. */
  written = 0;

  constructor(
    private readonly sql: Sql,
    private readonly store: ObjectStore,
    private readonly locks: AdvisoryLocks,
    private readonly logger: Logger,
    options: ArchiverOptions = {},
  ) {
    this.#o = { intervalMs: 10_000, segmentEvents: 1000, sessionsPerRound: 100, ...options };
    this.#rounds = new Rounds("archiver", logger, this.#o.intervalMs, () => this.round());
  }

  start(): void {
    this.#rounds.start();
  }

  async round(): Promise<void> {
    if (!(await this.locks.check()) || !(await this.locks.tryLock("archive"))) return;
    for (const sessionId of await archiveDue(this.sql, this.#o.sessionsPerRound)) {
      for (;;) {
        const range = await archiveRange(this.sql, sessionId, this.#o.segmentEvents);
        if (!range) break;
        const events = await read(this.sql, sessionId, range.fromSeq - 1, range.toSeq - range.fromSeq + 1, range.tenantId);
        if (events.length === 0 || events[0]!.seq !== range.fromSeq || events.at(-1)!.seq !== range.toSeq) {
          this.logger.warn("archive range changed while reading; retrying next round", { ...range });
          break;
        }
        const key = segmentKey(range.tenantId, sessionId, range.fromSeq, range.toSeq);
        const body = encodeSegment(events);
        await this.store.put(key, body);
        await recordArchiveSegment(this.sql, {
          sessionId,
          fromSeq: range.fromSeq,
          toSeq: range.toSeq,
          objectKey: key,
          bytes: Buffer.byteLength(body),
        });
        this.written++;
      }
    }
  }

  /** Runs a round soon (tests, and after a policy change). */
  poke(): void {
    this.#rounds.poke();
  }

  stop(): Promise<void> {
    return this.#rounds.stop();
  }
}
