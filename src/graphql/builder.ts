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

builder.scalarType("DateTime", {
  description: "An ISO-8601 timestamp in UTC with microseconds, e.g. 2026-01-02T03:04:05.123456Z.",
  serialize: (value) => value,
  parseValue: (value) => {
    if (typeof value !== "string" || Number.isNaN(Date.parse(value))) throw new GraphQLError("DateTime must be an ISO-8601 string");
    return value;
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING || Number.isNaN(Date.parse(ast.value))) throw new GraphQLError("DateTime must be an ISO-8601 string");
    return ast.value;
  },
});
