import { forbidTokens, requireScope } from "../auth/guard.ts";
import * as db from "../db/subscriptions.ts";
import type { Ack, SubscribeInput, Subscription, Wake } from "../db/subscriptions.ts";
import type { AppContext } from "./context.ts";

/**
 * Durable Streams subscriptions with their auth rules: managing them (create, delete, membership) needs
 * session:create, reading them or claiming a pull-wake session:read, and all of it a backend credential (a session
 * token is pinned to one stream). Callbacks, acks and releases carry the wake's own token instead, checked by the
 * adapter: they act in the tenant the token names.
 */

export function subscribe(ctx: AppContext, input: Omit<SubscribeInput, "tenantId">): Promise<boolean> {
  const p = requireScope(ctx.auth, "session:create");
  forbidTokens(p, "manage subscriptions");
  return db.subscribe(ctx.sql, { ...input, tenantId: p.tenantId });
}

export function get(ctx: AppContext, id: string): Promise<Subscription> {
  const p = requireScope(ctx.auth, "session:read");
  forbidTokens(p, "read subscriptions");
  return db.getSubscription(ctx.sql, id, p.tenantId);
}

export function unsubscribe(ctx: AppContext, id: string): Promise<void> {
  const p = requireScope(ctx.auth, "session:create");
  forbidTokens(p, "manage subscriptions");
  return db.unsubscribe(ctx.sql, id, p.tenantId);
}

export function link(ctx: AppContext, id: string, paths: string[]): Promise<void> {
  const p = requireScope(ctx.auth, "session:create");
  forbidTokens(p, "manage subscriptions");
  return db.linkStreams(ctx.sql, id, paths, p.tenantId);
}

export function unlink(ctx: AppContext, id: string, path: string): Promise<void> {
  const p = requireScope(ctx.auth, "session:create");
  forbidTokens(p, "manage subscriptions");
  return db.unlinkStream(ctx.sql, id, path, p.tenantId);
}

/** A pull-wake worker's claim: the tenant's subscription, for this worker. */
export function claim(ctx: AppContext, id: string, worker: string): Promise<Wake> {
  const p = requireScope(ctx.auth, "session:read");
  forbidTokens(p, "claim subscriptions");
  return db.claim(ctx.sql, id, worker, p.tenantId);
}

/** A wake token's holder: the subscription, wake and tenant the token was issued for. */
export interface WakeGrant {
  tenantId: string;
  subscriptionId: string;
  wakeId: string;
  generation: number;
}

export function ack(ctx: Pick<AppContext, "sql">, grant: WakeGrant, acks: Ack[], done: boolean) {
  return db.ack(ctx.sql, grant.subscriptionId, grant.wakeId, grant.generation, acks, done, grant.tenantId);
}

export function release(ctx: Pick<AppContext, "sql">, grant: WakeGrant): Promise<Wake[]> {
  return db.release(ctx.sql, grant.subscriptionId, grant.wakeId, grant.generation, grant.tenantId);
}
