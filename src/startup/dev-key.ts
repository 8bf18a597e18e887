import { readCliConfig, writeCliConfig, configPath } from "../cli/config-file.ts";
import type { Sql } from "../db/client.ts";
import { countApiKeys, createApiKey } from "../db/keys.ts";
import type { Config } from "../shared/config.ts";
import type { Logger } from "../shared/logger.ts";

export type DevKeyOutcome =
  { created: false; reason: string } | { created: true; secret: string; savedTo: string | null; notSavedBecause: string | null };

/**
 * First start of a development database: create a default-tenant key with every scope, print it once, and
 * store it with the endpoint in the CLI's config so `starcite ...` works straight away. A config that already
 * holds a key for another endpoint is left alone (it may be someone's production credential); the message
 * then says so and how to point the CLI here.
 */
export async function bootstrapDevKey(
  sql: Sql,
  config: Config,
  endpoint: string,
  logger: Logger,
  write: (text: string) => void = (t) => void process.stdout.write(t),
): Promise<DevKeyOutcome> {
  if (config.production) return { created: false, reason: "NODE_ENV=production" };
  if (config.authMode === "none") return { created: false, reason: "STARCITE_AUTH=none" };
  if (config.databaseUrl) return { created: false, reason: "DATABASE_URL is set: create keys with `starcite keys create` or SQL" };
  if ((await countApiKeys(sql)) > 0) return { created: false, reason: "the database already has API keys" };
  const { key, secret } = await createApiKey(sql, {
    tenantId: "default",
    name: "development",
    scopes: ["session:create", "session:read", "session:append", "keys:admin", "tenant:admin", "admin"],
  });
  const file = configPath(config.configDir);
  const existing = readCliConfig(config.configDir);
  let savedTo: string | null = null;
  let notSavedBecause: string | null = null;
  if (existing.apiKey && existing.endpoint && existing.endpoint !== endpoint) {
    notSavedBecause = `${file} already holds a key for ${existing.endpoint}, which was left as it is`;
  } else {
    try {
      writeCliConfig(config.configDir, { ...existing, endpoint, apiKey: secret });
      savedTo = file;
    } catch (error) {
      notSavedBecause = `could not write ${file}: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  logger.info("created a development API key", { keyId: key.id, savedTo, notSavedBecause });
  write(
    `\nDevelopment API key (shown once): ${secret}\n` +
      (savedTo
        ? `Saved with endpoint ${endpoint} to ${savedTo} for the starcite CLI.\n\n`
        : `Not saved for the CLI: ${notSavedBecause}.\n` +
          `To use this server from the CLI: starcite config set endpoint ${endpoint} && starcite config set api-key ${secret}\n\n`),
  );
  return { created: true, secret, savedTo, notSavedBecause };
}
