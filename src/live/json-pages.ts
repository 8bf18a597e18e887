import type { Sql } from "../db/client.ts";
import { eachTextRaw, type JsonProjection } from "../db/events.ts";
import { FrameEncoder, frameColumns, type Frame } from "./frames.ts";

export interface JsonPagesOptions {
  /** Events in one database read while catching up (at most the `events_per_read` limit). */
  pageEvents: number;
  /** Most bytes of one frame's events JSON (a single event longer than this gets a frame of its own). */
  frameBytes: number;
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

/** A page: the events of one database read, as consecutive frames (each at most frameBytes, but one event). */
export type Page = readonly Frame[];

export interface Prefetched {
  after: number;
  page: Promise<Page>;
  release(): void;
}

interface CachedPage {
  page: Page;
  size: number;
}

/**
 * Catch-up pages serialised once, in the server, for every reader: rows from `starcite.read_text` (the JSON
 * columns as the database writes them, pasted as bytes, never decoded), each encoded as it arrives, written as
 * frames of bounded size (frames.ts). A full page (one that stopped at pageEvents rather than at the end of
 * the log) never changes, since the log is append-only, so it is kept in a byte-bounded LRU for the next reader
 * starting at the same point; readers that ask for the same page at the same time share one read. Pages that reach
 * the log's current end are never cached.
 */
export class JsonPages {
  readonly options: JsonPagesOptions;
  readonly #cache = new Map<string, CachedPage>();
  readonly #reading = new Map<string, Promise<Page>>();
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

  read(address: PageAddress): Promise<Page> {
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
    const { pageEvents, frameBytes } = this.options;
    this.counted("database");
    const { projection } = address;
    const columns = frameColumns(projection);
    const encoder = new FrameEncoder(projection, frameBytes);
    const reading = eachTextRaw(this.sql, address.sessionId, address.after, pageEvents, columns, address.tenantId, (row) =>
      encoder.add(row),
    )
      .then((rows) => {
        const page = encoder.finish();
        if (rows === pageEvents) this.#keep(key, page);
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

  #keep(key: string, page: Page): void {
    // What the frames hold on to: each is a view of its own buffer (frames.ts), which may be larger than the frame.
    const size = page.reduce((n, frame) => n + frame.bytes.buffer.byteLength + 100, 100);
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
