import { getOperationAST, Kind, type DocumentNode, type FieldNode, type SelectionSetNode } from "graphql";
import { isGraphQLInt } from "../graphql/int.ts";
import type { EventColumn, JsonProjection } from "../db/events.ts";
import type { StoredEvent } from "../db/types.ts";
import type { Frame } from "../live/frames.ts";

/** What the encoder needs of a tail batch: its events as rows, or as one catch-up frame already serialised. */
export interface EncodableBatch {
  events: readonly StoredEvent[];
  page?: Frame | undefined;
  cursor: number;
  live: boolean;
}

/** A payload around a catch-up frame's bytes: `before` + frame + `after` is the JSON. */
export interface FramedJson {
  readonly before: string;
  readonly frame: Buffer;
  readonly after: string;
}

export interface TailEncoder {
  /** The events' columns and keys, for catch-up frames serialised ahead (null when events are not selected). */
  readonly projection: (JsonProjection & { readonly id: string }) | null;
  /**
   * The graphql-ws `next` payload for a batch, as JSON text byte for byte what graphql-js execution and
   * graphql-ws's JSON.stringify would give for row batches; undefined when a value is one graphql-js would
   * refuse (an Int beyond 32 bits), so that the caller lets graphql-js answer with its error.
   */
  encode(batch: EncodableBatch): string | FramedJson | undefined;
}

const int = (v: number): string | undefined => (isGraphQLInt(v) ? String(v) : undefined);
const nullableInt = (v: number | null | undefined): string | undefined => (v == null ? "null" : int(v));
const json = (v: unknown): string => (v == null ? "null" : JSON.stringify(v));

/** Event fields by GraphQL name: how graphql-js would write the value, and the stored column it comes from. */
const EVENT_FIELDS: Record<string, { column: EventColumn | null; write: (e: StoredEvent) => string | undefined }> = {
  seq: { column: "seq", write: (e) => int(e.seq) },
  sessionId: { column: "session_id", write: (e) => JSON.stringify(e.sessionId) },
  type: { column: "type", write: (e) => JSON.stringify(e.type) },
  payload: { column: "payload", write: (e) => JSON.stringify(e.payload) },
  actor: { column: "actor", write: (e) => json(e.actor) },
  source: { column: "source", write: (e) => json(e.source) },
  metadata: { column: "metadata", write: (e) => json(e.metadata) },
  refs: { column: "refs", write: (e) => json(e.refs) },
  idempotencyKey: { column: "idempotency_key", write: (e) => json(e.idempotencyKey) },
  producerId: { column: "producer_id", write: (e) => json(e.producerId) },
  producerSeq: { column: "producer_seq", write: (e) => nullableInt(e.producerSeq) },
  insertedAt: { column: "inserted_at", write: (e) => JSON.stringify(e.insertedAt) },
  __typename: { column: null, write: () => '"Event"' },
};

const BATCH_FIELDS = new Set(["events", "cursor", "live", "__typename"]);

/** The selection's fields, or null when it has anything else (fragments, directives) or a response key twice. */
function plainFields(selectionSet: SelectionSetNode): FieldNode[] | null {
  const fields: FieldNode[] = [];
  const keys = new Set<string>();
  for (const s of selectionSet.selections) {
    if (s.kind !== Kind.FIELD || (s.directives?.length ?? 0) > 0) return null;
    const key = s.alias?.value ?? s.name.value;
    if (keys.has(key)) return null;
    keys.add(key);
    fields.push(s);
  }
  return fields;
}

const keyOf = (f: FieldNode) => JSON.stringify(f.alias?.value ?? f.name.value);

/**
 * Compiles a `tail` subscription document into an encoder that writes each batch's result without graphql-js
 * execution: one string per event (cached per event, so an event the ring hands to many subscribers is written
 * once), and catch-up frames (live/frames.ts) written around as bytes. Only plain selections compile (fields, aliases; no
 * fragments, no directives, no repeated keys); null means "execute as usual".
 */
export function compileTailEncoder(document: DocumentNode, operationName?: string | null): TailEncoder | null {
  if (document.definitions.length !== 1) return null;
  const operation = getOperationAST(document, operationName ?? undefined);
  if (!operation || operation.operation !== "subscription" || (operation.directives?.length ?? 0) > 0) return null;
  const root = plainFields(operation.selectionSet);
  if (!root || root.length !== 1 || root[0]!.name.value !== "tail" || !root[0]!.selectionSet) return null;
  const batchFields = plainFields(root[0]!.selectionSet);
  if (!batchFields || batchFields.some((f) => !BATCH_FIELDS.has(f.name.value))) return null;

  const eventsField = batchFields.find((f) => f.name.value === "events");
  let eventFields: FieldNode[] = [];
  if (eventsField) {
    if (!eventsField.selectionSet) return null;
    const fields = plainFields(eventsField.selectionSet);
    if (!fields || fields.some((f) => !(f.name.value in EVENT_FIELDS) || f.selectionSet)) return null;
    eventFields = fields;
  }

  const writers = eventFields.map((f, i) => ({ prefix: (i === 0 ? "{" : ",") + keyOf(f) + ":", write: EVENT_FIELDS[f.name.value]!.write }));
  const written = new WeakMap<StoredEvent, string>();
  const writeEvent = (e: StoredEvent): string | undefined => {
    let out = written.get(e);
    if (out !== undefined) return out;
    out = "";
    for (const w of writers) {
      const value = w.write(e);
      if (value === undefined) return undefined;
      out += w.prefix + value;
    }
    out += writers.length === 0 ? "{}" : "}";
    written.set(e, out);
    return out;
  };
  const writeEvents = (events: readonly StoredEvent[]): string | undefined => {
    let out = "[";
    for (let i = 0; i < events.length; i++) {
      const e = writeEvent(events[i]!);
      if (e === undefined) return undefined;
      out += i === 0 ? e : "," + e;
    }
    return out + "]";
  };

  const head = `{"data":{${keyOf(root[0]!)}:`;
  const parts = batchFields.map((f, i) => ({ prefix: (i === 0 ? "{" : ",") + keyOf(f) + ":", name: f.name.value }));
  const columns = eventFields.map((f) => EVENT_FIELDS[f.name.value]!.column);
  const projection =
    eventsField && columns.every((c) => c !== null)
      ? (() => {
          const fields = columns as EventColumn[];
          const keys = eventFields.map((f) => f.alias?.value ?? f.name.value);
          return { fields, keys, id: JSON.stringify([fields, keys]) };
        })()
      : null;

  return {
    projection,
    encode(batch) {
      let out = head;
      let before: string | null = null;
      for (const part of parts) {
        let value: string | undefined;
        switch (part.name) {
          case "events":
            if (batch.page) {
              // The frame's bytes go here; what follows is the payload's `after`.
              before = out + part.prefix;
              out = "";
              continue;
            }
            value = writeEvents(batch.events);
            break;
          case "cursor":
            value = int(batch.cursor);
            break;
          case "live":
            value = batch.live ? "true" : "false";
            break;
          default:
            value = '"TailBatch"';
        }
        if (value === undefined) return undefined;
        out += part.prefix + value;
      }
      out += (parts.length === 0 ? "{}" : "}") + "}}";
      return before === null ? out : { before, frame: batch.page!.bytes, after: out };
    },
  };
}
