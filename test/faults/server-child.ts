/**
 * A starcite server as a child process of the fault suite (so it can be killed with -9 or paused with
 * SIGSTOP): FAULT_DATABASE_URL, FAULT_PORT; prints one JSON line {"url"} on stdout once listening.
 */
import { startServer } from "../../src/server/index.ts";
import { createLogger } from "../../src/shared/logger.ts";

const server = await startServer({
  config: { port: Number(process.env.FAULT_PORT), host: "127.0.0.1", poolSize: 6 },
  databaseUrl: process.env.FAULT_DATABASE_URL!,
  logger: createLogger("warn"),
  auth: { mode: "none", tokenSecret: "fault-suite-not-a-secret-0123456789abcdef" },
});
process.stdout.write(JSON.stringify({ url: server.url }) + "\n");
const stop = () => void server.close().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
