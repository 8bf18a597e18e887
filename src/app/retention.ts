import { forbidTokens, requireScope } from "../auth/guard.ts";
import * as db from "../db/retention.ts";
import type { AppContext } from "./context.ts";

/** Retention policies: read with session:read, set and clear with tenant:admin; backends only. */

export function get(ctx: AppContext, sessionId: string | null): Promise<db.RetentionPolicy> {
  const p = requireScope(ctx.auth, "session:read", "tenant:admin");
  forbidTokens(p, "read retention policies");
  return db.getRetention(ctx.sql, p.tenantId, sessionId);
}

export function set(ctx: AppContext, input: Omit<db.SetRetentionInput, "tenantId">): Promise<db.RetentionPolicy> {
  const p = requireScope(ctx.auth, "tenant:admin");
  forbidTokens(p, "set retention policies");
  return db.setRetention(ctx.sql, { ...input, tenantId: p.tenantId });
}

export function clear(ctx: AppContext, sessionId: string | null): Promise<boolean> {
  const p = requireScope(ctx.auth, "tenant:admin");
  forbidTokens(p, "clear retention policies");
  return db.clearRetention(ctx.sql, p.tenantId, sessionId);
}
