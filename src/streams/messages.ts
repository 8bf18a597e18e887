import type { JsonValue, StoredEvent } from "../db/types.ts";

/**
 * A stream's messages are its session's events (db/functions/ds_insert.sql): a JSON message is the payload of a
 * ds.message event or the `value` of a ds.value event; a binary message the bytes of a ds.bytes event (base64 in
 * its payload, as every surface shows it); ds.closed marks the end of a closed stream and is no message. Events
 * appended through another surface (GraphQL, REST) read as their payload: the JSON object, or its JSON text in a
 * non-JSON stream.
 */

export const isCloseMarker = (e: StoredEvent): boolean => e.type === "ds.closed";

export function jsonMessage(e: StoredEvent): JsonValue {
  if (e.type === "ds.value") return (e.payload.value ?? null) as JsonValue;
  return e.payload;
}

export function messageBytes(e: StoredEvent): Buffer {
  if (e.type === "ds.bytes" && typeof e.payload.base64 === "string") return Buffer.from(e.payload.base64, "base64");
  return Buffer.from(JSON.stringify(jsonMessage(e)));
}

/** The body of a read: a JSON array of the messages (JSON mode), or their bytes one after another. */
export function readBody(events: readonly StoredEvent[], json: boolean): Buffer {
  if (json) return Buffer.from(`[${events.map((e) => JSON.stringify(jsonMessage(e))).join(",")}]`);
  return Buffer.concat(events.map(messageBytes));
}
