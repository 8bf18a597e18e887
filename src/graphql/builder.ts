import SchemaBuilder from "@pothos/core";
import { GraphQLError, Kind, valueFromASTUntyped, type ValueNode } from "graphql";
import type { JsonValue } from "../db/types.ts";
import type { Context } from "./context.ts";

export const builder = new SchemaBuilder<{
  Context: Context;
  DefaultFieldNullability: false;
  Scalars: {
    JSON: { Input: JsonValue; Output: JsonValue };
    DateTime: { Input: string; Output: string };
    ID: { Input: string; Output: string };
  };
}>({ defaultFieldNullability: false });

builder.scalarType("JSON", {
  description: "Any JSON value.",
  serialize: (value) => value as JsonValue,
  parseValue: (value) => value as JsonValue,
  parseLiteral: (ast: ValueNode, variables) => valueFromASTUntyped(ast, variables ?? undefined) as JsonValue,
});

/** An ISO-8601 instant Postgres can store (years 1..9999), normalised to UTC; anything else is the client's mistake. */
function parseDateTime(value: unknown): string {
  const ms = typeof value === "string" && value.length <= 64 ? Date.parse(value) : Number.NaN;
  const year = Number.isNaN(ms) ? 0 : new Date(ms).getUTCFullYear();
  if (year < 1 || year > 9999) throw new GraphQLError("DateTime must be an ISO-8601 timestamp between years 1 and 9999");
  return new Date(ms).toISOString();
}

builder.scalarType("DateTime", {
  description: "An ISO-8601 timestamp in UTC with microseconds, e.g. 2026-01-02T03:04:05.123456Z.",
  serialize: (value) => value,
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined),
});
