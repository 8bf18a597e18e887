import { StarciteError } from "../db/errors.ts";
import type { JsonObject, JsonValue } from "../db/types.ts";

/** JSON arguments that must be objects (metadata) are checked here so the error names the argument. */
export function jsonObjectArg(value: JsonValue | null | undefined, field: string): JsonObject | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new StarciteError("invalid_argument", `${field} must be a JSON object`, { field });
  }
  return value;
}
