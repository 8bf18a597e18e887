import { lexicographicSortSchema, printSchema, type GraphQLSchema } from "graphql";
import { builder } from "../builder.ts";
import "./session.ts";
import "./event.ts";
import "./tail.ts";
import "./auth.ts";
import "./changes.ts";
import "./webhooks.ts";
import "./retention.ts";

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

export const schema: GraphQLSchema = builder.toSchema();

/** The SDL committed as schema.graphql; a test fails when they drift. */
export const printedSchema = (): string => printSchema(lexicographicSortSchema(schema)) + "\n";
