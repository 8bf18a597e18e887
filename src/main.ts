import { S3ObjectStore } from "./archive/store.ts";
import { createPool } from "./db/client.ts";
import { prepareDatabase } from "./db/database.ts";
import { startServer } from "./server/index.ts";
import { loadConfig, type Config } from "./shared/config.ts";
import { AUTH_FAILURE_LIMITS } from "./shared/limits.ts";
import { createLogger, type Logger } from "./shared/logger.ts";
import { checkAuthMode, resolveTokenSecret } from "./startup/auth-config.ts";
import { bootstrapDevKey } from "./startup/dev-key.ts";
import { assertPortFree, portError } from "./startup/port.ts";

/** Whatever has been started so far, stopped in reverse order; signals are honoured from the first line on. */
class Lifecycle {
  #stops: (() => Promise<void>)[] = [];
  #stopping: Promise<never> | null = null;

  constructor(private readonly logger: Logger) {
    process.on("SIGTERM", () => void this.stop("SIGTERM"));
    process.on("SIGINT", () => void this.stop("SIGINT"));
  }

  get stopping(): boolean {
    return this.#stopping !== null;
  }

  onStop(stop: () => Promise<void>): void {
    this.#stops.push(stop);
  }

  stop(reason: string, code = 0): Promise<never> {
    this.#stopping ??= (async () => {
      if (this.#stops.length === 0) process.exit(code);
      this.logger.info("shutting down", { reason });
      const force = setTimeout(() => {
        this.logger.error("shutdown took longer than 15 s; exiting");
        process.exit(1);
      }, 15_000);
      force.unref();
      for (const stop of this.#stops.reverse()) {
        await stop().catch((error: unknown) => this.logger.error("error while stopping", { error: String(error) }));
      }
      this.logger.info("stopped");
      process.exit(code);
    })();
    return this.#stopping;
  }
}

/** `npm start`: embedded Postgres unless DATABASE_URL is set, dbmate migrations, then the server. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const lifecycle = new Lifecycle(logger);
  try {
    await run(config, logger, lifecycle);
  } catch (error) {
    // Stop whatever did start (an embedded Postgres must not outlive us), then exit 1.
    process.stderr.write(`starcite failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    await lifecycle.stop("start-up failed", 1);
  }
}

async function run(config: Config, logger: Logger, lifecycle: Lifecycle): Promise<void> {
  checkAuthMode(config, logger);
  const tokenSecret = resolveTokenSecret(config, logger);
  await assertPortFree(config.host, config.port);

  const database = await prepareDatabase(config, logger);
  lifecycle.onStop(() => database.stop());
  if (lifecycle.stopping) return;

  const server = await startServer({
    config,
    databaseUrl: database.url,
    logger,
    graphiql: !config.production,
    fastPaths: config.fastPaths,
    streams: { longPollMs: config.streamLongPollMs, sseMaxMs: config.streamSseMaxMs, allowLocalHttpWebhooks: !config.production },
    cors: config.corsOrigins,
    introspection: config.introspection,
    limits: config.limits,
    archive: config.archive ? new S3ObjectStore(config.archive) : null,
    workers: config.workers ? {} : false,
    auth: {
      mode: config.authMode,
      tokenSecret,
      failureLimit: { failures: config.authFailureLimit, windowMs: AUTH_FAILURE_LIMITS.windowMs },
      ...(config.jwksUrl
        ? {
            external: {
              jwksUrl: config.jwksUrl,
              ...(config.jwtIssuer ? { issuer: config.jwtIssuer } : {}),
              ...(config.jwtAudience ? { audience: config.jwtAudience } : {}),
            },
          }
        : {}),
    },
  }).catch((error: NodeJS.ErrnoException) => {
    throw portError(error, config.host, config.port);
  });
  lifecycle.onStop(() => server.close());
  if (lifecycle.stopping) return;

  const admin = createPool(database.url, { max: 1 });
  try {
    await bootstrapDevKey(admin, config, `http://localhost:${server.port}`, logger);
  } finally {
    await admin.end();
  }
  logger.info("listening", { url: server.url, graphql: `${server.url}/graphql`, pid: process.pid });
}

main().catch((error: unknown) => {
  process.stderr.write(`starcite failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
