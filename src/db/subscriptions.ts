import type { Sql } from "./client.ts";
import { mapErrors } from "./errors.ts";

/**
 * Durable Streams subscriptions in the data layer (docs/durable-streams.md): configuration, links and the wake state
 * machine live in SQL (starcite.ds_subscribe ... ds_claim), so that every server process agrees on generations,
 * leases and fencing. Offsets are (epoch, seq) pairs here.
 */

/** A followed stream and its cursor: acked is null before the stream existed; tail is null while it does not. */
export interface LinkState {
  path: string;
  linkType: "glob" | "explicit";
  ackedEpoch: number | null;
  ackedSeq: number;
  tailEpoch: number | null;
  tailSeq: number | null;
  hasPending: boolean;
}

interface LinkRow {
  path: string;
  link_type: "glob" | "explicit";
  acked_epoch: number | null;
  acked_seq: number;
  tail_epoch: number | null;
  tail_seq: number | null;
  has_pending: boolean;
}

const toLink = (r: LinkRow): LinkState => ({
  path: r.path,
  linkType: r.link_type,
  ackedEpoch: r.acked_epoch,
  ackedSeq: r.acked_seq,
  tailEpoch: r.tail_epoch,
  tailSeq: r.tail_seq,
  hasPending: r.has_pending,
});

export interface Subscription {
  id: string;
  type: "webhook" | "pull-wake";
  pattern: string | null;
  webhookUrl: string | null;
  wakeStream: string | null;
  leaseTtlMs: number;
  description: string | null;
  createdAt: string;
  baseUrl: string;
  generation: number;
  status: "active" | "failed";
  streams: LinkState[];
}

/** A wake to deliver (starcite.ds_wake): a webhook request, or the wake a pull-wake worker claimed. */
export interface Wake {
  tenantId: string;
  subscriptionId: string;
  type: "webhook" | "pull-wake";
  webhookUrl: string | null;
  baseUrl: string;
  generation: number;
  wakeId: string;
  leaseTtlMs: number;
  holder: string | null;
  attempt: number;
  streams: LinkState[];
}

interface WakeRow {
  tenant_id: string;
  subscription_id: string;
  type: "webhook" | "pull-wake";
  webhook_url: string | null;
  base_url: string;
  generation: number;
  wake_id: string;
  lease_ttl_ms: number;
  holder: string | null;
  attempt: number;
  streams: LinkRow[] | null;
}

const toWake = (r: WakeRow): Wake => ({
  tenantId: r.tenant_id,
  subscriptionId: r.subscription_id,
  type: r.type,
  webhookUrl: r.webhook_url,
  baseUrl: r.base_url,
  generation: r.generation,
  wakeId: r.wake_id,
  leaseTtlMs: r.lease_ttl_ms,
  holder: r.holder,
  attempt: r.attempt,
  streams: (r.streams ?? []).map(toLink),
});

export interface SubscribeInput {
  id: string;
  type: string;
  pattern: string | null;
  streams: string[];
  webhookUrl: string | null;
  wakeStream: string | null;
  leaseTtlMs: number;
  description: string | null;
  baseUrl: string;
  tenantId: string;
}

/** Creates (true) or re-confirms (false) a subscription. */
export async function subscribe(sql: Sql, input: SubscribeInput): Promise<boolean> {
  const [row] = await mapErrors(
    () => sql<{ created: boolean }[]>`
    select starcite.ds_subscribe(id => ${input.id}, type => ${input.type}, pattern => ${input.pattern},
      streams => ${input.streams}::text[], webhook_url => ${input.webhookUrl}, wake_stream => ${input.wakeStream},
      lease_ttl_ms => ${input.leaseTtlMs}::integer, description => ${input.description}, base_url => ${input.baseUrl},
      tenant_id => ${input.tenantId}) as created`,
  );
  return row!.created;
}

export async function getSubscription(sql: Sql, id: string, tenantId: string): Promise<Subscription> {
  const [row] = await mapErrors(
    () => sql<{ doc: Omit<Subscription, "streams"> & Record<string, unknown> }[]>`
    select starcite.ds_subscription(${id}, ${tenantId}) as doc`,
  );
  const d = row!.doc as Record<string, unknown>;
  return {
    id: d.id as string,
    type: d.type as Subscription["type"],
    pattern: d.pattern as string | null,
    webhookUrl: d.webhook_url as string | null,
    wakeStream: d.wake_stream as string | null,
    leaseTtlMs: d.lease_ttl_ms as number,
    description: d.description as string | null,
    createdAt: new Date(d.created_at as string).toISOString(),
    baseUrl: d.base_url as string,
    generation: d.generation as number,
    status: d.status as Subscription["status"],
    streams: (d.streams as LinkRow[]).map(toLink),
  };
}

export async function unsubscribe(sql: Sql, id: string, tenantId: string): Promise<void> {
  await mapErrors(() => sql`select starcite.ds_unsubscribe(${id}, ${tenantId})`);
}

export async function linkStreams(sql: Sql, id: string, paths: string[], tenantId: string): Promise<void> {
  await mapErrors(() => sql`select starcite.ds_link_streams(${id}, ${paths}::text[], ${tenantId})`);
}

export async function unlinkStream(sql: Sql, id: string, path: string, tenantId: string): Promise<void> {
  await mapErrors(() => sql`select starcite.ds_unlink_stream(${id}, ${path}, ${tenantId})`);
}

/** Whether any subscription exists (in any tenant): the dispatcher sleeps while none does. */
export async function anySubscriptions(sql: Sql): Promise<boolean> {
  const [row] = await mapErrors(() => sql<{ any: boolean }[]>`select exists (select 1 from starcite.ds_subscriptions) as any`);
  return row!.any;
}

/** The idle subscriptions following any of these sessions' streams. */
export async function wakeCandidates(sql: Sql, sessionIds: string[]): Promise<{ tenantId: string; id: string }[]> {
  const rows = await mapErrors(
    () => sql<{ tenant_id: string; subscription_id: string }[]>`
    select * from starcite.ds_wake_candidates(${sessionIds}::text[])`,
  );
  return rows.map((r) => ({ tenantId: r.tenant_id, id: r.subscription_id }));
}

export async function dueSubscriptions(sql: Sql, max = 100): Promise<{ tenantId: string; id: string }[]> {
  const rows = await mapErrors(
    () => sql<{ tenant_id: string; subscription_id: string }[]>`
    select * from starcite.ds_due_subscriptions(${max})`,
  );
  return rows.map((r) => ({ tenantId: r.tenant_id, id: r.subscription_id }));
}

const wakes = (rows: readonly WakeRow[]): Wake[] => rows.filter((r) => r.wake_id !== null).map(toWake);

export async function wake(sql: Sql, id: string, tenantId: string): Promise<Wake[]> {
  return wakes(await mapErrors(() => sql<WakeRow[]>`select * from starcite.ds_wake(${id}, ${tenantId})`));
}

export async function tick(sql: Sql, id: string, tenantId: string): Promise<Wake[]> {
  return wakes(await mapErrors(() => sql<WakeRow[]>`select * from starcite.ds_tick(${id}, ${tenantId})`));
}

export async function webhookResult(
  sql: Sql,
  w: Pick<Wake, "subscriptionId" | "wakeId" | "generation" | "tenantId">,
  delivered: boolean,
  done: boolean,
): Promise<Wake[]> {
  return wakes(
    await mapErrors(
      () => sql<WakeRow[]>`
    select * from starcite.ds_webhook_result(${w.subscriptionId}, ${w.wakeId}, ${w.generation}, ${delivered}, ${done}, ${w.tenantId})`,
    ),
  );
}

export interface Ack {
  path: string;
  epoch: number;
  seq: number;
}

/** Applies acks for the current wake; with done, releases it. next: the wake issued at once for work still pending. */
export async function ack(
  sql: Sql,
  id: string,
  wakeId: string,
  generation: number,
  acks: Ack[],
  done: boolean,
  tenantId: string,
): Promise<{ nextWake: boolean; next: Wake | null }> {
  const [row] = await mapErrors(
    () => sql<(WakeRow & { next_wake: boolean })[]>`
    select a.next_wake, (a.wake).* from starcite.ds_ack(${id}, ${wakeId}, ${generation}, ${sql.json(acks.map((a): Record<string, string | number> => ({ path: a.path, epoch: a.epoch, seq: a.seq })))}::jsonb, ${done}, ${tenantId}) a`,
  );
  return { nextWake: row!.next_wake, next: row!.wake_id ? toWake(row!) : null };
}

export async function release(sql: Sql, id: string, wakeId: string, generation: number, tenantId: string): Promise<Wake[]> {
  return wakes(await mapErrors(() => sql<WakeRow[]>`select * from starcite.ds_release(${id}, ${wakeId}, ${generation}, ${tenantId})`));
}

export async function claim(sql: Sql, id: string, worker: string, tenantId: string): Promise<Wake> {
  const [row] = await mapErrors(() => sql<WakeRow[]>`select * from starcite.ds_claim(${id}, ${worker}, ${tenantId})`);
  return toWake(row!);
}
