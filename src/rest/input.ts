import { StarciteError } from "../db/errors.ts";
import type { JsonValue } from "../db/types.ts";

type InputCode = "invalid_argument" | "invalid_event";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Reads the typed fields of one JSON object from a request body (what GraphQL's input coercion does for
 * GraphQL): wrong types and unknown fields are the client's mistake, reported with the field's name.
 * Unknown fields are refused because a misspelt `producerSeq` would otherwise silently lose dedup.
 */
export class Fields {
  readonly #seen = new Set<string>();

  private constructor(
    private readonly value: Record<string, unknown>,
    private readonly code: InputCode,
    private readonly prefix: string,
  ) {}

  /** `value` must be an object (an absent body counts as `{}` when `optional`). */
  static of(value: unknown, code: InputCode, prefix = "", optional = false): Fields {
    if (value === undefined && optional) return new Fields({}, code, prefix);
    if (!isObject(value)) {
      throw new StarciteError(
        code === "invalid_event" ? "invalid_event" : "bad_request",
        `${prefix ? `${prefix.replace(/\.$/, "")} ` : "the request body "}must be a JSON object`,
        prefix ? { field: prefix.replace(/\.$/, "") } : {},
      );
    }
    return new Fields(value, code, prefix);
  }

  #fail(name: string, what: string): never {
    throw new StarciteError(this.code, `${this.prefix}${name} must be ${what}`, { field: `${this.prefix}${name}` });
  }

  #get(name: string): unknown {
    this.#seen.add(name);
    return this.value[name];
  }

  has(name: string): boolean {
    return this.value[name] !== undefined;
  }

  string(name: string): string | null | undefined {
    const v = this.#get(name);
    if (v === undefined || v === null) return v;
    if (typeof v !== "string") this.#fail(name, "a string");
    return v;
  }

  requiredString(name: string): string {
    const v = this.string(name);
    if (v == null) this.#fail(name, "a string");
    return v;
  }

  int(name: string): number | null | undefined {
    const v = this.#get(name);
    if (v === undefined || v === null) return v;
    if (typeof v !== "number" || !Number.isSafeInteger(v)) this.#fail(name, "an integer");
    return v;
  }

  bool(name: string): boolean | null | undefined {
    const v = this.#get(name);
    if (v === undefined || v === null) return v;
    if (typeof v !== "boolean") this.#fail(name, "true or false");
    return v;
  }

  /** Any JSON value; the operation checks its shape (e.g. payload and metadata must be objects). */
  json(name: string): JsonValue | undefined {
    return this.#get(name) as JsonValue | undefined;
  }

  stringList(name: string): string[] | null | undefined {
    const v = this.#get(name);
    if (v === undefined || v === null) return v;
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) this.#fail(name, "an array of strings");
    return v as string[];
  }

  array(name: string): unknown[] {
    const v = this.#get(name);
    if (!Array.isArray(v)) this.#fail(name, "an array");
    return v;
  }

  object(name: string): Fields {
    const v = this.#get(name);
    return Fields.of(v, this.code, `${this.prefix}${name}.`);
  }

  /** Call after reading every known field. */
  done(): void {
    const unknown = Object.keys(this.value).filter((k) => !this.#seen.has(k));
    if (unknown.length > 0) {
      const name = unknown[0]!;
      const snake = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      const hint = snake !== name && this.#seen.has(snake) ? ` (did you mean ${snake}?)` : "";
      throw new StarciteError(this.code, `unknown field ${this.prefix}${name}${hint}`, { field: `${this.prefix}${name}` });
    }
  }
}

/** An integer query parameter. */
export function intParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === "") return undefined;
  if (!/^-?\d{1,15}$/.test(raw)) throw new StarciteError("invalid_argument", `${name} must be an integer`, { field: name });
  return Number(raw);
}

export function boolParam(query: URLSearchParams, name: string): boolean | undefined {
  const raw = query.get(name);
  if (raw === null || raw === "") return undefined;
  if (raw !== "true" && raw !== "false") throw new StarciteError("invalid_argument", `${name} must be true or false`, { field: name });
  return raw === "true";
}
