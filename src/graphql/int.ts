import { GRAPHQL_MAX_INT, GRAPHQL_MIN_INT } from "graphql";

/**
 * Whether graphql-js would take or give `v` as an Int (a signed 32-bit integer) unchanged. The server's hand-written
 * paths (the compiled append, the tail encoder) ask this before they answer for graphql-js, and leave anything else
 * to graphql-js, so that its own errors are what clients see.
 */
export const isGraphQLInt = (v: unknown): v is number =>
  typeof v === "number" && Number.isInteger(v) && v <= GRAPHQL_MAX_INT && v >= GRAPHQL_MIN_INT;
