import { archiveSegment } from "../db/archive.ts";
import type { Sql } from "../db/client.ts";
import { StarciteError, toStarciteError } from "../db/errors.ts";
import { read, type EventRead } from "../db/events.ts";
import type { StoredEvent } from "../db/types.ts";
import { decodeSegment } from "./format.ts";
import type { ObjectStore } from "./store.ts";

/**
 * Postgres, and the archive behind it: when Postgres says cursor_expired but the archive holds the range after
 * the cursor, the events come from the archived object (one segment per call; the next call continues in
 * Postgres or the next segment). Decoded segments are cached, a few at a time, since readers replaying the same
 * history ask for the same objects.
 */
export function archiveAwareRead(sql: Sql, store: ObjectStore, cacheSegments = 16): EventRead {
  const cache = new Map<string, Promise<StoredEvent[]>>();
  const load = (key: string): Promise<StoredEvent[]> => {
    let hit = cache.get(key);
    if (hit) {
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    hit = store.get(key).then((text) => {
      if (text === null) throw new StarciteError("internal_error", `archived object ${key} is missing`);
      return decodeSegment(text);
    });
    hit.catch(() => cache.delete(key));
    cache.set(key, hit);
    while (cache.size > cacheSegments) cache.delete(cache.keys().next().value!);
    return hit;
  };
  return async (sessionId, after, limit, tenantId) => {
    try {
      return await read(sql, sessionId, after, limit, tenantId);
    } catch (error) {
      const e = toStarciteError(error);
      const earliest = e instanceof StarciteError && e.code === "cursor_expired" ? Number(e.detail.earliest_seq) : NaN;
      if (!(earliest <= after + 1)) throw e;
      const segment = await archiveSegment(sql, sessionId, after + 1, tenantId);
      if (!segment) throw e;
      const events = await load(segment.objectKey);
      return events.filter((ev) => ev.seq > after).slice(0, limit);
    }
  };
}
