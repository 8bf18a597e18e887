import postgres from "postgres";
import type { Config } from "../shared/config.ts";
import type { Logger } from "../shared/logger.ts";
import { startEmbeddedPostgres } from "./embedded.ts";
import { migrate, UnknownMigrationsError } from "./migrate.ts";

export interface Database {
  url: string;
  /** Stops the embedded Postgres, if one was started. */
  stop(): Promise<void>;
}

const EMBEDDED_DB = "starcite";

/**
 * DATABASE_URL when set; otherwise the embedded Postgres in config.dataDir with a `starcite` database.
 * Either way, applies pending migrations with dbmate before returning.
 */
export async function prepareDatabase(config: Config, logger: Logger): Promise<Database> {
  let url = config.databaseUrl;
  let stop = async () => {};
  if (!url) {
    logger.info("starting embedded Postgres", { dataDir: config.dataDir, port: config.embeddedPgPort });
    const pg = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort });
    stop = pg.stop;
    const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      const [exists] = await admin`select 1 from pg_database where datname = ${EMBEDDED_DB}`;
      if (!exists) await admin.unsafe(`create database ${EMBEDDED_DB}`);
    } finally {
      await admin.end();
    }
    const u = new URL(pg.url);
    u.pathname = `/${EMBEDDED_DB}`;
    url = u.toString();
  }
  try {
    const out = await migrate(url);
    for (const line of out.split("\n").filter(Boolean)) logger.info("dbmate", { line });
  } catch (error) {
    await stop();
    if (error instanceof UnknownMigrationsError) {
      throw new UnknownMigrationsError(
        error.versions,
        config.databaseUrl
          ? "drop and recreate the database DATABASE_URL names (or point it at an empty one) and start again"
          : `delete ${config.dataDir} (the embedded Postgres's data) and run npm start again`,
      );
    }
    throw error;
  }
  return { url, stop };
}
