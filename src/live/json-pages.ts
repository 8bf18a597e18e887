import type { Sql } from "../db/client.ts";
import { readJson, type JsonPage, type JsonProjection } from "../db/events.ts";

export interface JsonPagesOptions {
  /** Most events in one catch-up page. */
  pageEvents: number;
  /** About how many bytes of payload one catch-up page holds. */
  pageBytes: number;
  /** Bytes of full pages kept for the next reader of the same session from the same point (0: no cache). */
  cacheBytes: number;
  /** Catch-up reads running ahead of their reader at once, process-wide (each holds at most one page). */
  prefetchSlots: number;
}

/** A projection as readers share it: the same id means the same JSON. */
export interface SharedProjection extends JsonProjection {
  readonly id: string;
}

/** Where a page comes from: which session (as of which incarnation), which projection, after which seq. */
export interface PageAddress {
  sessionId: string;
  tenantId: string | undefined;
  /** The session's creation time: a page of an older session under the same id is never served. */
  epoch: string;
  projection: SharedProjection;
  after: number;
}

export interface Prefetched {
  after: number;
  page: Promise<JsonPage>;
  release(): void;
}

interface CachedPage {
  page: JsonPage;
  size: number;
}

/**
 * Catch-up pages serialised once: by the database (`starcite.read_json`), for every reader. A full page
 * (one that stopped at a limit rather than at the end of the log) never changes, since the log is append-only,
 * so it is kept in a byte-bounded LRU for the next reader starting at the same point; readers that ask for the
 * same page at the same time share one read. Pages past the log's current end are never cached.
 */
export class JsonPages {
  readonly options: JsonPagesOptions;
  readonly #cache = new Map<string, CachedPage>();
  readonly #reading = new Map<string, Promise<JsonPage>>();
  #cachedBytes = 0;
  #prefetching = 0;

  constructor(
    private readonly sql: Sql,
    options: JsonPagesOptions,
    private readonly counted: (how: "database" | "cache" | "shared") => void = () => {},
  ) {
    this.options = options;
  }

  get cachedBytes(): number {
    return this.#cachedBytes;
  }

  read(address: PageAddress): Promise<JsonPage> {
    const key = `${address.tenantId ?? ""}\u0000${address.sessionId}\u0000${address.epoch}\u0000${address.projection.id}\u0000${address.after}`;
    const cached = this.#cache.get(key);
    if (cached) {
      // Most recently used last.
      this.#cache.delete(key);
      this.#cache.set(key, cached);
      this.counted("cache");
      return Promise.resolve(cached.page);
    }
    const inFlight = this.#reading.get(key);
    if (inFlight) {
      this.counted("shared");
      return inFlight;
    }
    const { pageEvents, pageBytes } = this.options;
    this.counted("database");
    const reading = readJson(this.sql, address.sessionId, address.after, pageEvents, pageBytes, address.projection, address.tenantId)
      .then((page) => {
        if (page.count === pageEvents || page.json.length >= pageBytes) this.#keep(key, page);
        return page;
      })
      .finally(() => this.#reading.delete(key));
    this.#reading.set(key, reading);
    return reading;
  }

  /**
   * A page read ahead for a reader, if one of the process's slots is free. The reader holds the slot until it
   * takes the page or gives it up (release), so pages read ahead but not yet sent stay bounded.
   */
  prefetch(address: PageAddress): Prefetched | null {
    if (this.#prefetching >= this.options.prefetchSlots) return null;
    this.#prefetching++;
    let released = false;
    const page = this.read(address);
    page.catch(() => {});
    return {
      after: address.after,
      page,
      release: () => {
        if (released) return;
        released = true;
        this.#prefetching--;
      },
    };
  }

  #keep(key: string, page: JsonPage): void {
    const size = page.json.length + 200;
    if (size > this.options.cacheBytes / 4 || this.#cache.has(key)) return;
    this.#cache.set(key, { page, size });
    this.#cachedBytes += size;
    for (const [oldKey, old] of this.#cache) {
      if (this.#cachedBytes <= this.options.cacheBytes) break;
      this.#cache.delete(oldKey);
      this.#cachedBytes -= old.size;
    }
  }

  clear(): void {
    this.#cache.clear();
    this.#cachedBytes = 0;
  }
}
