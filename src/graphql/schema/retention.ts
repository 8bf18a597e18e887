import * as retention from "../../app/retention.ts";
import type { RetentionPolicy } from "../../db/retention.ts";
import { builder } from "../builder.ts";

const RetentionScopeRef = builder.enumType("RetentionScope", { values: ["session", "tenant"] as const });

const RetentionPolicyRef = builder.objectRef<RetentionPolicy>("RetentionPolicy").implement({
  description:
    "How long events are kept. An event is expired once older than maxAgeSeconds or more than maxEvents behind its session's newest.",
  fields: (t) => ({
    scope: t.field({
      type: RetentionScopeRef,
      nullable: true,
      description: "Whose policy is in force (null: none; events are kept forever).",
      resolve: (p) => p.scope,
    }),
    maxAgeSeconds: t.exposeInt("maxAgeSeconds", { nullable: true }),
    maxEvents: t.exposeInt("maxEvents", { nullable: true }),
    archive: t.exposeBoolean("archive", { description: "Expired events are archived to the object store before they are deleted." }),
  }),
});

builder.queryFields((t) => ({
  retention: t.field({
    type: RetentionPolicyRef,
    description: "The retention policy in force for a session (its own, else its tenant's), or the tenant's without sessionId.",
    args: { sessionId: t.arg.id() },
    resolve: (_root, args, ctx) => retention.get(ctx, args.sessionId == null ? null : String(args.sessionId)),
  }),
}));

builder.mutationFields((t) => ({
  setRetention: t.field({
    type: RetentionPolicyRef,
    description:
      "Sets the tenant's retention policy, or one session's with sessionId (tenant:admin). At least one of maxAgeSeconds and maxEvents.",
    args: {
      sessionId: t.arg.id(),
      maxAgeSeconds: t.arg.int(),
      maxEvents: t.arg.int(),
      archive: t.arg.boolean({ defaultValue: false }),
    },
    resolve: (_root, args, ctx) =>
      retention.set(ctx, {
        sessionId: args.sessionId == null ? null : String(args.sessionId),
        maxAgeSeconds: args.maxAgeSeconds,
        maxEvents: args.maxEvents,
        archive: args.archive ?? false,
      }),
  }),
  clearRetention: t.field({
    type: "Boolean",
    description: "Removes the tenant's policy, or one session's (tenant:admin). True when there was one.",
    args: { sessionId: t.arg.id() },
    resolve: (_root, args, ctx) => retention.clear(ctx, args.sessionId == null ? null : String(args.sessionId)),
  }),
}));
