import type { Sql } from "./client.ts";
import { mapErrors } from "./errors.ts";
import { toEvent, type EventRow } from "./rows.ts";
import type { StoredEvent } from "./types.ts";

/**
 * Durable Streams (docs/durable-streams.md) in the data layer: typed calls into the starcite.ds_* functions, which
 * decide everything the protocol adds to a session. Offsets do not appear here: SQL speaks (offset epoch, seq).
 */

/** A stream as the functions report it (starcite.ds_stream_state). */
export interface StreamState {
  sessionId: string;
  /** The offset space: offsets are <offsetEpoch>_<seq>. */
  offsetEpoch: number;
  contentType: string;
  ttlSeconds: number | null;
  /** ISO-8601. */
  expiresAt: string | null;
  /** Seq of the last message (0: none yet). */
  tailSeq: number;
  closed: boolean;
}

interface StateRow {
  session_id: string;
  offset_epoch: number;
  content_type: string;
  ttl_seconds: number | null;
  expires_at: string | null;
  tail_seq: number;
  closed: boolean;
}

const toState = (r: StateRow): StreamState => ({
  sessionId: r.session_id,
  offsetEpoch: r.offset_epoch,
  contentType: r.content_type,
  ttlSeconds: r.ttl_seconds,
  expiresAt: r.expires_at,
  tailSeq: r.tail_seq,
  closed: r.closed,
});

/** A message body: JSON text (a JSON stream's document, flattened one level in SQL) or bytes. */
export type StreamBody = { json: string } | { bytes: Buffer } | null;

export interface CreateStreamInput {
  path: string;
  /** Null: the fork's source's, else application/octet-stream. */
  contentType: string | null;
  ttlSeconds: number | null;
  expiresAt: string | null;
  closed: boolean;
  body: StreamBody;
  fork: { path: string; epoch: number | null; seq: number | null; subOffset: number } | null;
  actor: string | null;
  tenantId: string;
}

export async function createStream(sql: Sql, input: CreateStreamInput): Promise<{ created: boolean; state: StreamState }> {
  const { body, fork } = input;
  const [row] = await mapErrors(
    () => sql<(StateRow & { created: boolean })[]>`
    select c.created, (c.state).* from starcite.ds_create(
      path => ${input.path}, content_type => ${input.contentType}, ttl_seconds => ${input.ttlSeconds}::bigint,
      expires_at => ${input.expiresAt}::timestamptz, closed => ${input.closed},
      messages => ${body && "json" in body ? body.json : null}::text::jsonb,
      body => ${body && "bytes" in body ? body.bytes : null}::bytea,
      fork_path => ${fork?.path ?? null}, fork_epoch => ${fork?.epoch ?? null}::bigint, fork_seq => ${fork?.seq ?? null}::bigint,
      fork_sub_offset => ${fork?.subOffset ?? 0}::bigint, actor => ${input.actor}, tenant_id => ${input.tenantId}) c`,
  );
  return { created: row!.created, state: toState(row!) };
}

export interface AppendStreamInput {
  path: string;
  contentType: string | null;
  body: StreamBody;
  streamSeq: string | null;
  producer: { id: string; epoch: number; seq: number } | null;
  close: boolean;
  actor: string | null;
  tenantId: string;
}

export interface AppendStreamResult {
  /** appended; duplicate: an idempotent producer's repeat, nothing written; closed: a close of a closed stream. */
  outcome: "appended" | "duplicate" | "closed";
  state: StreamState;
  /** The producer's epoch and highest accepted seq, when the request named a producer the stream knows. */
  producerEpoch: number | null;
  producerSeq: number | null;
}

export async function appendStream(sql: Sql, input: AppendStreamInput): Promise<AppendStreamResult> {
  const { body, producer } = input;
  const [row] = await mapErrors(
    () => sql<(StateRow & { outcome: AppendStreamResult["outcome"]; epoch: number | null; last_producer_seq: number | null })[]>`
    select a.outcome, a.epoch, a.last_producer_seq, (a.state).* from starcite.ds_append(
      path => ${input.path}, content_type => ${input.contentType},
      messages => ${body && "json" in body ? body.json : null}::text::jsonb,
      body => ${body && "bytes" in body ? body.bytes : null}::bytea,
      stream_seq => ${input.streamSeq}, producer_id => ${producer?.id ?? null},
      producer_epoch => ${producer?.epoch ?? null}::bigint, producer_seq => ${producer?.seq ?? null}::bigint,
      close => ${input.close}, actor => ${input.actor}, tenant_id => ${input.tenantId}) a`,
  );
  return { outcome: row!.outcome, state: toState(row!), producerEpoch: row!.epoch, producerSeq: row!.last_producer_seq };
}

/** The live stream at a path; `touch` (a read) moves its sliding TTL. */
export async function resolveStream(sql: Sql, path: string, touch: boolean, tenantId: string): Promise<StreamState> {
  const [row] = await mapErrors(() => sql<StateRow[]>`select * from starcite.ds_resolve(${path}, ${touch}, ${tenantId})`);
  return toState(row!);
}

/** A catch-up page of a stream's session: seq > afterSeq, at most maxEvents and about maxBytes (at least one). */
export async function readStream(
  sql: Sql,
  sessionId: string,
  afterSeq: number,
  maxEvents: number,
  maxBytes: number,
  tenantId: string,
): Promise<StoredEvent[]> {
  const rows = await mapErrors(
    () => sql<EventRow[]>`select * from starcite.ds_read(${sessionId}, ${afterSeq}, ${maxEvents}, ${maxBytes}, ${tenantId})`,
  );
  return rows.map(toEvent);
}

export async function deleteStream(sql: Sql, path: string, tenantId: string): Promise<void> {
  await mapErrors(() => sql`select starcite.ds_delete(${path}, ${tenantId})`);
}

/** Deletes the sessions of up to `max` expired streams nobody asked for again; returns how many. */
export async function sweepStreams(sql: Sql, max = 100): Promise<number> {
  const [row] = await mapErrors(() => sql<{ n: number }[]>`select starcite.ds_sweep(${max}) as n`);
  return row!.n;
}
