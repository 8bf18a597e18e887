import { loadConfig } from "./shared/config.ts";
import { prepareDatabase } from "./db/database.ts";
import { createLogger } from "./shared/logger.ts";
import { startServer } from "./server/index.ts";
import { bootstrapDevKey, checkAuthMode, resolveTokenSecret } from "./auth/bootstrap.ts";
import { createPool } from "./db/client.ts";

/** `npm start`: embedded Postgres unless DATABASE_URL is set, dbmate migrations, then the server. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  checkAuthMode(config, logger);
  const tokenSecret = resolveTokenSecret(config, logger);
  const database = await prepareDatabase(config, logger);
  const server = await startServer({
    config,
    databaseUrl: database.url,
    logger,
    graphiql: !config.production,
    auth: {
      mode: config.authMode,
      tokenSecret,
      ...(config.jwksUrl
        ? { external: { jwksUrl: config.jwksUrl, ...(config.jwtIssuer ? { issuer: config.jwtIssuer } : {}), ...(config.jwtAudience ? { audience: config.jwtAudience } : {}) } }
        : {}),
    },
  });
  const endpoint = `http://localhost:${server.port}`;
  const admin = createPool(database.url, { max: 1 });
  try {
    await bootstrapDevKey(admin, config, endpoint, logger);
  } finally {
    await admin.end();
  }
  logger.info("listening", { url: server.url, graphql: `${server.url}/graphql` });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    const force = setTimeout(() => {
      logger.error("shutdown took longer than 15 s; exiting");
      process.exit(1);
    }, 15_000);
    force.unref();
    try {
      await server.close();
    } finally {
      await database.stop();
      logger.info("stopped");
      process.exit(0);
    }
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`starcite failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
