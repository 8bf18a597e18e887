import * as tail from "../../app/tails.ts";
import type { TailBatch } from "../../live/tail-iterator.ts";
import { builder } from "../builder.ts";
import { EventRef } from "./event.ts";

export const TailBatchRef = builder.objectRef<TailBatch>("TailBatch").implement({
  fields: (t) => ({
    events: t.field({ type: [EventRef], resolve: (b) => b.events }),
    cursor: t.exposeInt("cursor", { description: "Seq of the last event delivered so far; resubscribe with it to resume." }),
    live: t.exposeBoolean("live", {
      description: "False for replayed history; an empty batch with true marks the catch-up point, and every later batch is live.",
    }),
  }),
});

builder.subscriptionFields((t) => ({
  tail: t.field({
    type: TailBatchRef,
    description:
      "Replays events with seq > cursor in order, then follows live. The first batch with live=true marks the catch-up point (it may be empty).",
    args: {
      sessionId: t.arg.id({ required: true }),
      cursor: t.arg.int({ defaultValue: 0 }),
    },
    subscribe: (_root, args, ctx) => tail.open(ctx, String(args.sessionId), args.cursor ?? 0),
    resolve: (batch) => batch,
  }),
}));
