import type { Sql } from "./client.ts";
import { mapErrors, mapReadErrors, mapWriteErrors, SQLSTATE_TO_CODE, StarciteError, unstorableText, type ErrorCode } from "./errors.ts";
import { toEvent, type EventRow } from "./rows.ts";
import type { AppendResult, EventInput, JsonValue, StoredEvent } from "./types.ts";

/** An event addressed to a session, as the group-commit path and append_items take it. */
export interface AddressedEvent extends EventInput {
  sessionId: string;
  /** Tenant that owns the session; defaults to the connection's starcite.tenant_id (or "default"). */
  tenantId?: string;
}

export type AppendOutcome = { ok: true; result: AppendResult } | { ok: false; error: StarciteError };

interface AppendResultRow {
  idx: number;
  seq: number | null;
  last_seq: number | null;
  deduped: boolean;
  error_code: string | null;
  error_message: string | null;
  error_detail?: Record<string, unknown> | null;
}

const KNOWN_CODES = new Set<string>(Object.values(SQLSTATE_TO_CODE));

function toItem(e: AddressedEvent): Record<string, JsonValue> {
  const item: Record<string, JsonValue> = { session_id: e.sessionId, payload: e.payload };
  if (e.type != null) item.type = e.type;
  if (e.actor != null) item.actor = e.actor;
  if (e.source != null) item.source = e.source;
  if (e.metadata != null) item.metadata = e.metadata;
  if (e.refs != null) item.refs = e.refs;
  if (e.idempotencyKey != null) item.idempotency_key = e.idempotencyKey;
  if (e.producerId != null) item.producer_id = e.producerId;
  if (e.producerSeq != null) item.producer_seq = e.producerSeq;
  if (e.expectedSeq != null) item.expected_seq = e.expectedSeq;
  if (e.tenantId != null) item.tenant_id = e.tenantId;
  return item;
}

function toOutcome(row: AppendResultRow): AppendOutcome {
  if (row.error_code) {
    const code = (KNOWN_CODES.has(row.error_code) ? row.error_code : "internal_error") as ErrorCode;
    const message = (row.error_message ?? code).replace(/^[a-z_]+: /, "");
    return { ok: false, error: new StarciteError(code, message, row.error_detail ?? {}) };
  }
  return { ok: true, result: { seq: row.seq!, lastSeq: row.last_seq!, deduped: row.deduped } };
}

/**
 * A lone UTF-16 surrogate cannot be encoded as UTF-8: inside JSON parameters Postgres rejects it (and
 * toStarciteError reports invalid_event), but in a text parameter the driver would silently replace it with
 * U+FFFD. Text parameters are refused the same way, so that an event gets one answer on every path.
 */
const LONE_SURROGATE = /\p{Cs}/u;

function assertEncodable(values: readonly (string | null | undefined)[]): void {
  if (values.some((v) => v != null && LONE_SURROGATE.test(v))) {
    throw unstorableText();
  }
}

/** Appends one event with `starcite.append`; throws StarciteError on a rejected event. */
export async function append(sql: Sql, sessionId: string, event: EventInput, tenantId?: string | null): Promise<AppendResult> {
  assertEncodable([sessionId, event.type, event.actor, event.source, event.idempotencyKey, event.producerId, tenantId]);
  const [row] = await mapWriteErrors(
    () => sql<{ seq: number; last_seq: number; deduped: boolean }[]>`
    select * from starcite.append(
      session_id => ${sessionId}, type => ${event.type ?? "content"}, payload => ${sql.json(event.payload)}::jsonb,
      actor => ${event.actor ?? null}, source => ${event.source ?? null},
      metadata => ${event.metadata == null ? null : sql.json(event.metadata)}::jsonb,
      refs => ${event.refs == null ? null : sql.json(event.refs)}::jsonb,
      idempotency_key => ${event.idempotencyKey ?? null}, producer_id => ${event.producerId ?? null},
      producer_seq => ${event.producerSeq ?? null}::bigint, expected_seq => ${event.expectedSeq ?? null}::bigint,
      tenant_id => ${tenantId ?? null})`,
  );
  return { seq: row!.seq, lastSeq: row!.last_seq, deduped: row!.deduped };
}

/**
 * Appends events to any sessions in one statement (`starcite.append_items`). Returns one outcome per input in
 * input order. With `atomic`, the first failure throws and nothing is written.
 */
export async function appendItems(sql: Sql, events: readonly AddressedEvent[], atomic = false): Promise<AppendOutcome[]> {
  const rows = await mapWriteErrors(
    () => sql<AppendResultRow[]>`select * from starcite.append_items(${sql.json(events.map(toItem))}::jsonb, ${atomic})`,
  );
  return rows.map(toOutcome);
}

/** A group of `appendGroups`: its events, and whether they are all-or-nothing. */
export interface AppendGroup {
  events: readonly AddressedEvent[];
  atomic: boolean;
}

/** One outcome per event of a group; an atomic group that failed has one error for all of them. */
export type GroupOutcome = { ok: true; outcomes: AppendOutcome[] } | { ok: false; error: StarciteError };

/**
 * `starcite.append_groups`: several append_items calls in one transaction (one commit for all), each group's
 * outcomes apart; an atomic group that fails writes nothing and does not affect the others.
 */
export async function appendGroups(sql: Sql, groups: readonly AppendGroup[]): Promise<GroupOutcome[]> {
  const rows = await mapWriteErrors(
    () => sql<(Omit<AppendResultRow, "idx"> & { grp: number; idx: number | null })[]>`
      select * from starcite.append_groups(${sql.json(groups.map((g) => ({ items: g.events.map(toItem), atomic: g.atomic })))}::jsonb)`,
  );
  const out: GroupOutcome[] = groups.map(() => ({ ok: true, outcomes: [] }));
  for (const row of rows) {
    const at = row.grp - 1;
    if (row.idx === null) {
      const failed = toOutcome({ ...row, idx: 0 });
      out[at] = failed.ok ? { ok: false, error: new StarciteError("internal_error", "a group failed without an error") } : failed;
    } else {
      const group = out[at]!;
      if (group.ok) group.outcomes.push(toOutcome({ ...row, idx: row.idx }));
    }
  }
  return out;
}

/** `starcite.append_batch`: many events into one session, one outcome per input in input order. */
export async function appendBatch(
  sql: Sql,
  sessionId: string,
  events: readonly EventInput[],
  atomic = false,
  tenantId?: string,
): Promise<AppendOutcome[]> {
  return appendItems(
    sql,
    events.map((e) => ({ ...e, sessionId, ...(tenantId ? { tenantId } : {}) })),
    atomic,
  );
}

/** Reads events with seq > after, in order, at most limit: starcite.read, or it with the archive behind it. */
export type EventRead = (sessionId: string, after: number, limit: number, tenantId?: string | null) => Promise<StoredEvent[]>;

/** Postgres only: a cursor before the retained range is cursor_expired. */
export const postgresRead =
  (sql: Sql): EventRead =>
  (sessionId, after, limit, tenantId) =>
    read(sql, sessionId, after, limit, tenantId);

/** Events with seq > afterSeq in seq order (`starcite.read`); cursor_expired before the retained range. */
export async function read(sql: Sql, sessionId: string, afterSeq = 0, limit = 100, tenantId?: string | null): Promise<StoredEvent[]> {
  const rows = await mapReadErrors(
    () => sql<EventRow[]>`select * from starcite.read(${sessionId}, ${afterSeq}, ${limit}, ${tenantId ?? null})`,
  );
  return rows.map(toEvent);
}

/** One session's part of a `readMany`: its events with seq > after, at most max. */
export interface ReadRequest {
  sessionId: string;
  after: number;
  max: number;
}

/**
 * The new events of many sessions of one tenant in one statement (`starcite.read_many`), by session id in seq
 * order; sessions the tenant does not have are absent.
 */
export async function readMany(sql: Sql, requests: readonly ReadRequest[], tenantId?: string | null): Promise<Map<string, StoredEvent[]>> {
  const rows = await mapErrors(
    () => sql<EventRow[]>`
    select * from starcite.read_many(${requests.map((r) => r.sessionId)}::text[], ${requests.map((r) => r.after)}::bigint[],
                                     ${requests.map((r) => r.max)}::integer[], ${tenantId ?? null})`,
  );
  const out = new Map<string, StoredEvent[]>();
  for (const row of rows) {
    const event = toEvent(row);
    let list = out.get(event.sessionId);
    if (!list) out.set(event.sessionId, (list = []));
    list.push(event);
  }
  return out;
}

/** Which stored columns a JSON page carries, under which keys, in order (as `starcite.read_json` takes them). */
export interface JsonProjection {
  readonly fields: readonly EventColumn[];
  readonly keys: readonly string[];
}

/** The columns of starcite.events a projection may name (what `starcite.read_json` and `read_text` carry). */
export const EVENT_COLUMNS = [
  "seq",
  "session_id",
  "type",
  "payload",
  "actor",
  "source",
  "metadata",
  "refs",
  "idempotency_key",
  "producer_id",
  "producer_seq",
  "inserted_at",
] as const;

export type EventColumn = (typeof EVENT_COLUMNS)[number];

const KNOWN_COLUMNS: ReadonlySet<string> = new Set(EVENT_COLUMNS);

/**
 * Events with seq > afterSeq in seq order from `starcite.read_text` (the checks and errors of `starcite.read`),
 * the given columns only, in that order, each as the bytes the database sent (postgres.js's raw mode: nothing
 * decoded; the JSON columns as JSON text, numbers as digits, inserted_at as Postgres writes a timestamptz in UTC).
 * Rows are handed to `onRow` one by one as they arrive, none kept, so that a reader can encode each at once.
 * Returns how many rows there were.
 */
export async function eachTextRaw(
  sql: Sql,
  sessionId: string,
  afterSeq: number,
  limit: number,
  columns: readonly EventColumn[],
  tenantId: string | null | undefined,
  onRow: (row: (Buffer | null)[]) => void,
): Promise<number> {
  if (columns.length === 0 || columns.some((c) => !KNOWN_COLUMNS.has(c))) {
    throw new StarciteError("invalid_argument", "unknown event column");
  }
  let rows = 0;
  await mapReadErrors(() =>
    sql`select ${sql(columns as EventColumn[])} from starcite.read_text(${sessionId}, ${afterSeq}, ${limit}, ${tenantId ?? null})`
      .raw()
      .forEach((row) => {
        rows++;
        onRow(row as unknown as (Buffer | null)[]);
      }),
  );
  return rows;
}
