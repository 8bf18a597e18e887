/**
 * Where a session remembers the last seq it delivered, so a new session object (a page reload, a
 * restarted worker) resumes from there instead of replaying everything.
 */
export interface CursorStore {
  load(key: string): number | undefined | Promise<number | undefined>;
  save(key: string, cursor: number): void | Promise<void>;
  /** Optional: forget a key. */
  remove?(key: string): void | Promise<void>;
}

/** Keeps cursors in a Map: survives a reconnect, not a process restart. */
export class MemoryCursorStore implements CursorStore {
  readonly #cursors = new Map<string, number>();

  load(key: string): number | undefined {
    return this.#cursors.get(key);
  }

  save(key: string, cursor: number): void {
    this.#cursors.set(key, cursor);
  }

  remove(key: string): void {
    this.#cursors.delete(key);
  }
}

/** The subset of the Web Storage API the store needs (window.localStorage or sessionStorage). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Keeps cursors in `localStorage` (or any Storage) under `<prefix><key>`: survives a page reload. */
export class LocalStorageCursorStore implements CursorStore {
  readonly #storage: StorageLike;
  readonly #prefix: string;

  constructor(storage?: StorageLike, prefix = "starcite:cursor:") {
    const s = storage ?? (globalThis as { localStorage?: StorageLike }).localStorage;
    if (!s) throw new Error("LocalStorageCursorStore needs a Storage (no globalThis.localStorage here)");
    this.#storage = s;
    this.#prefix = prefix;
  }

  load(key: string): number | undefined {
    try {
      const raw = this.#storage.getItem(this.#prefix + key);
      if (raw === null) return undefined;
      const value = Number(raw);
      return Number.isInteger(value) && value >= 0 ? value : undefined;
    } catch {
      return undefined;
    }
  }

  save(key: string, cursor: number): void {
    try {
      this.#storage.setItem(this.#prefix + key, String(cursor));
    } catch {
      // Quota or privacy mode: resuming is a convenience, never a reason to fail the stream.
    }
  }

  remove(key: string): void {
    try {
      this.#storage.removeItem(this.#prefix + key);
    } catch {
      // see save()
    }
  }
}

/** localStorage where there is one (browsers), else a fresh memory store. */
export function defaultCursorStore(): CursorStore {
  const storage = (globalThis as { localStorage?: StorageLike }).localStorage;
  if (storage && typeof storage.getItem === "function") {
    try {
      return new LocalStorageCursorStore(storage);
    } catch {
      // fall through
    }
  }
  return new MemoryCursorStore();
}
