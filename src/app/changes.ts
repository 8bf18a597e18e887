import { forbidTokens, requireScope } from "../auth/guard.ts";
import { lastChangeSeq, readChanges } from "../db/changes.ts";
import { StarciteError } from "../db/errors.ts";
import type { SessionChange } from "../db/types.ts";
import { ChangeIterator } from "../live/changes.ts";
import type { AppContext } from "./context.ts";

/** The lifecycle feed of the caller's tenant: backends only (API keys, identity-provider users), with session:read. */

export interface ChangePage {
  changes: SessionChange[];
  nextCursor: number;
  lastSeq: number;
}

function reader(ctx: AppContext) {
  const p = requireScope(ctx.auth, "session:read");
  forbidTokens(p, "read the lifecycle feed");
  return p;
}

function checkCursor(cursor: number, field: string): void {
  if (!Number.isSafeInteger(cursor) || cursor < 0) throw new StarciteError("invalid_argument", `${field} must be >= 0`, { field });
}

export async function page(ctx: AppContext, after: number, limit: number): Promise<ChangePage> {
  const p = reader(ctx);
  checkCursor(after, "after");
  const changes = await readChanges(ctx.sql, p.tenantId, after, limit);
  const lastSeq = Math.max(await lastChangeSeq(ctx.sql, p.tenantId), changes.at(-1)?.seq ?? 0);
  return { changes, nextCursor: changes.at(-1)?.seq ?? after, lastSeq };
}

/** Replays changes with seq > cursor, then follows live. */
export async function open(ctx: AppContext, cursor: number): Promise<ChangeIterator> {
  const p = reader(ctx);
  checkCursor(cursor, "cursor");
  const last = await lastChangeSeq(ctx.sql, p.tenantId);
  if (cursor > last) {
    throw new StarciteError("invalid_argument", `cursor ${cursor} is beyond the tenant's last change seq ${last}`, {
      field: "cursor",
      last_seq: last,
    });
  }
  return new ChangeIterator(ctx.sql, ctx.changes, ctx.hub.metrics, { tenantId: p.tenantId, cursor });
}
