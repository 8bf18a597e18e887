import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Config } from "../shared/config.ts";
import type { Logger } from "../shared/logger.ts";

/**
 * The session-token secret: STARCITE_TOKEN_SECRET, or in development one generated once and kept
 * next to the embedded data dir, so tokens survive restarts. Production refuses to guess.
 */
export function resolveTokenSecret(config: Config, logger: Logger): string {
  if (config.tokenSecret) return config.tokenSecret;
  if (config.production) throw new Error("NODE_ENV=production needs STARCITE_TOKEN_SECRET (at least 32 characters)");
  const file = path.join(path.dirname(config.dataDir), "token-secret");
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const secret = randomBytes(32).toString("base64url");
    fs.writeFileSync(file, secret + "\n", { mode: 0o600 });
    logger.info("generated a development token secret", { file });
    return secret;
  }
}

/** Production never runs without auth; `STARCITE_AUTH=none` says loudly what it means. */
export function checkAuthMode(config: Config, logger: Logger): void {
  if (config.authMode !== "none") return;
  if (config.production) throw new Error("STARCITE_AUTH=none is refused with NODE_ENV=production: configure API keys instead");
  const banner =
    "AUTHENTICATION IS OFF (STARCITE_AUTH=none): anyone who can reach this port can read and write every session. Local experiments only.";
  logger.warn(banner);
  process.stderr.write(`\n!!! ${banner}\n\n`);
}
