import { parseArgs } from "node:util";

/** A mistake in the command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** Placeholder shown in help, e.g. "<id>". */
  value?: string;
  description: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

/** Options every command takes. */
export const GLOBAL_OPTIONS: OptionSpecs = {
  "config-dir": { type: "string", value: "<dir>", description: "Config directory (default $STARCITE_CONFIG_DIR or ~/.starcite)" },
  endpoint: {
    type: "string",
    value: "<url>",
    description: "Server URL, with or without /graphql (default $STARCITE_ENDPOINT or the config file)",
  },
  "api-key": { type: "string", value: "<key>", description: "API key or session token (default $STARCITE_API_KEY or the config file)" },
  help: { type: "boolean", short: "h", description: "Show this help" },
};

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parse(argv: string[], options: OptionSpecs): Parsed {
  const spec: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries({ ...GLOBAL_OPTIONS, ...options })) {
    spec[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options: spec, allowPositionals: true, strict: true });
    return { values: values as Parsed["values"], positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // node's messages are long and mention parseArgs internals; keep the useful first sentence.
    throw new UsageError(
      message
        .split(". ")[0]!
        .replace(/^Unknown option '(.+)'$/, "unknown option $1")
        .replace(/'/g, ""),
    );
  }
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  if (Array.isArray(v)) return v[v.length - 1];
  return typeof v === "string" ? v : undefined;
}

export function bool(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}

export function list(p: Parsed, name: string): string[] | undefined {
  const v = p.values[name];
  if (v === undefined) return undefined;
  const raw = Array.isArray(v) ? v : [String(v)];
  return raw.flatMap((x) => x.split(/[\s,]+/)).filter(Boolean);
}

export function int(p: Parsed, name: string, min = 0): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return Number(v);
}

export function json(p: Parsed, name: string, { object = false } = {}): unknown {
  const v = str(p, name);
  if (v === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(v);
  } catch (error) {
    throw new UsageError(`--${name} is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (object && (value === null || typeof value !== "object" || Array.isArray(value))) {
    throw new UsageError(`--${name} must be a JSON object, e.g. '{"key":"value"}'`);
  }
  return value;
}

/** Exactly `names.length` positionals, named in the error. */
export function positionals(p: Parsed, names: string[], optional: string[] = []): string[] {
  const got = p.positionals;
  if (got.length < names.length)
    throw new UsageError(
      `missing ${names
        .slice(got.length)
        .map((n) => `<${n}>`)
        .join(" ")}`,
    );
  if (got.length > names.length + optional.length)
    throw new UsageError(`unexpected argument ${JSON.stringify(got[names.length + optional.length])}`);
  return got;
}
