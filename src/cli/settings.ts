import os from "node:os";
import path from "node:path";
import { configPath, readCliConfig } from "./config-file.ts";

/** Where a setting came from, for `starcite config show`. */
export type Source = "flag" | "env" | "config file" | "unset";

export interface CliSettings {
  configDir: string;
  configFile: string;
  endpoint: string | undefined;
  endpointSource: Source;
  apiKey: string | undefined;
  apiKeySource: Source;
}

export interface SettingFlags {
  configDir?: string | undefined;
  endpoint?: string | undefined;
  apiKey?: string | undefined;
}

/** `--config-dir`, else STARCITE_CONFIG_DIR (the server's first start writes there too), else ~/.starcite. */
export function resolveConfigDir(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return path.resolve(flag || env.STARCITE_CONFIG_DIR || path.join(env.HOME || os.homedir(), ".starcite"));
}

/** Flags beat environment variables (STARCITE_ENDPOINT, STARCITE_API_KEY), which beat the config file. */
export function resolveSettings(flags: SettingFlags, env: NodeJS.ProcessEnv): CliSettings {
  const configDir = resolveConfigDir(flags.configDir, env);
  const file = readCliConfig(configDir);
  const pick = (flag: string | undefined, envValue: string | undefined, fileValue: string | undefined): [string | undefined, Source] =>
    flag ? [flag, "flag"] : envValue ? [envValue, "env"] : fileValue ? [fileValue, "config file"] : [undefined, "unset"];
  const [endpoint, endpointSource] = pick(flags.endpoint, env.STARCITE_ENDPOINT, file.endpoint);
  const [apiKey, apiKeySource] = pick(flags.apiKey, env.STARCITE_API_KEY, file.apiKey);
  return { configDir, configFile: configPath(configDir), endpoint, endpointSource, apiKey, apiKeySource };
}

/** Shows enough of a key to recognise it: "sk_AbCdE…(52 chars)". */
export function maskSecret(secret: string): string {
  if (secret.length <= 10) return "*".repeat(secret.length);
  return `${secret.slice(0, 8)}…(${secret.length} chars)`;
}
