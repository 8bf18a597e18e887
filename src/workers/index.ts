import type { ObjectStore } from "../archive/store.ts";
import type { Sql } from "../db/client.ts";
import type { NotificationListener } from "../db/listener.ts";
import { AdvisoryLocks } from "../db/locks.ts";
import type { Logger } from "../shared/logger.ts";
import { Archiver, type ArchiverOptions } from "./archiver.ts";
import { RetentionWorker, type RetentionOptions } from "./retention.ts";
import { WebhookWorker, type WebhookWorkerOptions } from "./webhooks.ts";

export interface WorkersOptions {
  retention?: RetentionOptions;
  archiver?: ArchiverOptions;
  webhooks?: WebhookWorkerOptions;
}

export interface Workers {
  retention: RetentionWorker;
  /** Present when an archive store is configured. */
  archiver: Archiver | null;
  webhooks: WebhookWorker;
  stop(): Promise<void>;
}

/** Advisory-lock namespace of the workers' locks (the first key of pg_try_advisory_lock(int, int)). */
const LOCK_NAMESPACE = 0x5c17e;

/**
 * The background workers of one server process: retention, the archiver (with an object store) and the webhook
 * sender. Safe with any number of processes on one database: each piece of work is taken under an advisory lock
 * held on one connection of their own per process.
 */
export function startWorkers(
  sql: Sql,
  databaseUrl: string,
  listener: NotificationListener,
  logger: Logger,
  store: ObjectStore | null,
  options: WorkersOptions = {},
): Workers {
  const locks = new AdvisoryLocks(databaseUrl, LOCK_NAMESPACE);
  const retention = new RetentionWorker(sql, locks, logger, options.retention);
  const archiver = store ? new Archiver(sql, store, locks, logger, options.archiver) : null;
  const webhooks = new WebhookWorker(sql, locks, logger, options.webhooks);
  retention.start();
  archiver?.start();
  webhooks.start(listener);
  return {
    retention,
    archiver,
    webhooks,
    async stop() {
      await Promise.all([retention.stop(), archiver?.stop(), webhooks.stop()]);
      await locks.close();
    },
  };
}
