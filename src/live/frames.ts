import { isoTimestamp } from "../db/client.ts";
import type { EventColumn, JsonProjection } from "../db/events.ts";

/**
 * A catch-up frame: consecutive events as one JSON array, in bytes (UTF-8), serialised once and written to every
 * reader's socket as they are.
 */
export interface Frame {
  /** `[{...},{...}]` */
  readonly bytes: Buffer;
  readonly count: number;
  /** Seq of its last event. */
  readonly lastSeq: number;
}

/** A row as postgres.js hands it over in raw mode: each column's text as the database sent it (null for NULL). */
export type RawRow = readonly (Buffer | null)[];

const NULL = Buffer.from("null");
const QUOTE = 0x22;

/** Grows by doubling; holds the frame being written. */
class ByteBuffer {
  buf: Buffer;
  len = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  put(bytes: Uint8Array): void {
    const n = bytes.length;
    this.reserve(n);
    const buf = this.buf;
    let at = this.len;
    // Most pieces are a few bytes (keys, numbers, quotes): a loop beats a call into the runtime for those.
    if (n < 64) for (let i = 0; i < n; i++) buf[at++] = bytes[i]!;
    else {
      buf.set(bytes, at);
      at += n;
    }
    this.len = at;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  text(s: string): void {
    this.reserve(s.length * 3);
    this.len += this.buf.write(s, this.len);
  }
}

type Writer = (out: ByteBuffer, value: Buffer | null) => void;

/** Numbers and JSON columns: the database's text is already the JSON. */
const paste: Writer = (out, v) => out.put(v ?? NULL);

/** A JSON string: the bytes between quotes when nothing in them needs escaping (the usual case), else JSON.stringify. */
const quoted: Writer = (out, v) => {
  if (v === null) return out.put(NULL);
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (b < 0x20 || b === QUOTE || b === 0x5c) return out.text(JSON.stringify(v.toString("utf8")));
  }
  out.byte(QUOTE);
  out.put(v);
  out.byte(QUOTE);
};

/**
 * timestamptz as the database writes it in UTC ("2026-01-02 03:04:05.12+00") to the ISO-8601 form every surface
 * uses ("2026-01-02T03:04:05.120000Z"), byte by byte for the usual shape; anything else through isoTimestamp.
 */
const timestamp: Writer = (out, v) => {
  if (v === null) return out.put(NULL);
  const n = v.length;
  const usual = n >= 22 && n <= 29 && v[10] === 0x20 && v[n - 3] === 0x2b && v[n - 2] === 0x30 && v[n - 1] === 0x30;
  if (!usual || (n > 22 && v[19] !== 0x2e)) return quoted(out, Buffer.from(isoTimestamp(v.toString("latin1"))));
  out.reserve(29);
  const b = out.buf;
  let at = out.len;
  b[at++] = QUOTE;
  v.copy(b, at, 0, 10);
  at += 10;
  b[at++] = 0x54; // T
  v.copy(b, at, 11, 19);
  at += 8;
  b[at++] = 0x2e; // .
  const digits = n === 22 ? 0 : n - 23;
  for (let i = 0; i < 6; i++) b[at++] = i < digits ? v[20 + i]! : 0x30;
  b[at++] = 0x5a; // Z
  b[at++] = QUOTE;
  out.len = at;
};

/** How each column's text goes into JSON: text columns quoted, numbers and JSON columns as the database wrote them. */
const WRITERS: Record<EventColumn, Writer> = {
  seq: paste,
  session_id: quoted,
  type: quoted,
  payload: paste,
  actor: quoted,
  source: quoted,
  metadata: paste,
  refs: paste,
  idempotency_key: quoted,
  producer_id: quoted,
  producer_seq: paste,
  inserted_at: timestamp,
};

/** A seq's digits as a number. */
function parseSeq(v: Buffer | null): number {
  if (v === null) throw new Error("a catch-up row without seq");
  let n = 0;
  for (let i = 0; i < v.length; i++) n = n * 10 + (v[i]! - 0x30);
  return n;
}

/**
 * The columns a frame's rows must carry, in this order: the projection's, then seq (which the writer needs for
 * each frame's last seq) when the projection leaves it out.
 */
export function frameColumns(projection: JsonProjection): EventColumn[] {
  const columns = [...projection.fields];
  if (!columns.includes("seq")) columns.push("seq");
  return columns;
}

/**
 * Rows (in frameColumns order) as frames of at most `frameBytes` bytes each (but at least one event). Frames are
 * kept below V8's large-object size (128 KiB) on purpose: on these machines a bigger buffer is a fresh mapping that
 * costs page faults on every frame (decoding a 2 MiB frame ran at ~300 MB/s against ~3 GB/s at 64 KiB). Frames are
 * Buffers, written from the rows' bytes: no row is decoded into strings, and nothing frame-sized lands on the V8
 * heap, where it would be copied by every scavenge until sent.
 *
 * Rows are taken one at a time (add), so that a reader can encode each row as the database sends it: a row is then
 * garbage before the next arrives, rather than a page of them surviving young-generation collections together.
 */
export class FrameEncoder {
  readonly #columns: { prefix: Buffer; write: Writer }[];
  readonly #seqAt: number;
  readonly #frameBytes: number;
  readonly #size: number;
  readonly #frames: Frame[] = [];
  #out: ByteBuffer;
  #count = 0;
  #lastSeq = 0;

  constructor(projection: JsonProjection, frameBytes: number) {
    this.#columns = projection.fields.map((field, i) => ({
      prefix: Buffer.from((i === 0 ? "{" : ",") + JSON.stringify(projection.keys[i]) + ":"),
      write: WRITERS[field],
    }));
    this.#seqAt = frameColumns(projection).indexOf("seq");
    this.#frameBytes = frameBytes;
    this.#size = frameBytes + 1024;
    this.#out = new ByteBuffer(this.#size);
  }

  add(row: RawRow): void {
    const columns = this.#columns;
    let out = this.#out;
    const start = out.len;
    out.byte(this.#count === 0 ? 0x5b : 0x2c); // [ or ,
    if (columns.length === 0) out.byte(0x7b); // {
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i]!;
      out.put(c.prefix);
      c.write(out, row[i]!);
    }
    out.byte(0x7d); // }
    if (this.#count > 0 && out.len + 1 > this.#frameBytes) {
      // This event starts the next frame: close the frame before it, and copy the event into a new buffer.
      const event = out.buf.subarray(start + 1, out.len);
      const next = new ByteBuffer(Math.max(this.#size, event.length + 2));
      next.byte(0x5b); // [
      next.put(event);
      this.#cut(start);
      this.#out = out = next;
      this.#count = 0;
    }
    this.#count++;
    this.#lastSeq = parseSeq(row[this.#seqAt]!);
  }

  /** The frames of every row added (none for no rows). */
  finish(): Frame[] {
    if (this.#count > 0) this.#cut(this.#out.len);
    this.#count = 0;
    return this.#frames;
  }

  /** The frame ends before `end`: its buffer becomes the frame as it is (no copy); a new one takes over. */
  #cut(end: number): void {
    const out = this.#out;
    out.reserve(1);
    out.buf[end] = 0x5d; // ]
    this.#frames.push({ bytes: out.buf.subarray(0, end + 1), count: this.#count, lastSeq: this.#lastSeq });
  }
}
