import fs from "node:fs";
import path from "node:path";

/** The CLI's settings file, `<config dir>/config.json` (default ~/.starcite). */
export interface CliConfig {
  endpoint?: string;
  apiKey?: string;
}

export const configPath = (dir: string): string => path.join(dir, "config.json");

export function readCliConfig(dir: string): CliConfig {
  try {
    const value: unknown = JSON.parse(fs.readFileSync(configPath(dir), "utf8"));
    if (!value || typeof value !== "object") return {};
    const v = value as Record<string, unknown>;
    return {
      ...(typeof v.endpoint === "string" ? { endpoint: v.endpoint } : {}),
      ...(typeof v.apiKey === "string" ? { apiKey: v.apiKey } : {}),
    };
  } catch {
    return {};
  }
}

/** Writes with mode 0600: the file may hold an API key. */
export function writeCliConfig(dir: string, config: CliConfig): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = configPath(dir);
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}
