import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Config } from "../config.ts";
import { createPool } from "../db/client.ts";
import { NotificationListener } from "../live/listener.ts";
import type { Logger } from "../logger.ts";

export interface ServerOptions {
  config: Pick<Config, "port" | "host" | "poolSize">;
  databaseUrl: string;
  logger: Logger;
}

export interface RunningServer {
  /** http://host:port (no trailing slash). */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { config, databaseUrl, logger } = options;
  const sql = createPool(databaseUrl, { max: config.poolSize });
  const listener = new NotificationListener(databaseUrl);
  await listener.start();

  const server = http.createServer(async (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/health/live") {
      res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
      return;
    }
    if (path === "/health/ready") {
      let dbOk = false;
      try {
        await sql`select 1`;
        dbOk = true;
      } catch {
        dbOk = false;
      }
      const ok = dbOk && listener.connected;
      res.writeHead(ok ? 200 : 503, { "content-type": "application/json" })
        .end(JSON.stringify({ status: ok ? "ok" : "unavailable", database: dbOk, listener: listener.connected }));
      return;
    }
    res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not_found"}');
  });
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const port = (server.address() as AddressInfo).port;
  const host = config.host === "0.0.0.0" ? "127.0.0.1" : config.host;
  logger.debug("http server up", { port });
  return {
    url: `http://${host}:${port}`,
    port,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await listener.stop();
      await sql.end({ timeout: 5 });
    },
  };
}
