/**
 * The SDK's GraphQL documents against the committed schema.graphql: every one parses and validates, and the
 * field lists the SDK's wire types mirror are exactly the schema's, so neither side can drift unnoticed.
 */
import fs from "node:fs";
import path from "node:path";
import { buildSchema, isObjectType, parse, validate } from "graphql";
import { describe, expect, test } from "vitest";
import * as documents from "../../src/sdk/queries.ts";
import { ROOT } from "../helpers/node.ts";

const schema = buildSchema(fs.readFileSync(path.join(ROOT, "schema.graphql"), "utf8"));
const operations = Object.entries(documents).filter(([, value]) => /^(query|mutation|subscription)\b/.test(value));

describe("the SDK's GraphQL documents", () => {
  test("there are documents to check", () => {
    expect(operations.length).toBeGreaterThanOrEqual(10);
  });

  test.each(operations)("%s parses and validates against schema.graphql", (_name, source) => {
    expect(validate(schema, parse(source)).map((e) => e.message)).toEqual([]);
  });

  test.each([
    ["EVENT_FIELDS", "Event"],
    ["SESSION_FIELDS", "Session"],
    ["API_KEY_FIELDS", "ApiKey"],
  ] as const)("%s selects every field of %s", (constant, typeName) => {
    const type = schema.getType(typeName);
    expect(isObjectType(type)).toBe(true);
    const fields = isObjectType(type) ? Object.keys(type.getFields()).sort() : [];
    expect(documents[constant].split(/\s+/).sort()).toEqual(fields);
  });
});
