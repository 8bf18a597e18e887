import net from "node:net";
import { createApiKey } from "../../src/db/keys.ts";
import { silentLogger } from "../../src/shared/logger.ts";
import { startServer, type RunningServer } from "../../src/server/index.ts";
import type { TestDatabase } from "../helpers/db.ts";
import { TEST_TOKEN_SECRET } from "../helpers/server.ts";

/** Resolves once `predicate()` holds, checking on every `poke()` and on a short poll; rejects after `timeoutMs`. */
export function until(predicate: () => boolean, timeoutMs = 15_000, label = "condition"): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      let ok = false;
      try {
        ok = predicate();
      } catch (error) {
        clearInterval(timer);
        reject(error);
        return;
      }
      if (ok) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        reject(new Error(`${label}: not met within ${timeoutMs} ms`));
      }
    };
    const timer = setInterval(check, 10);
    check();
  });
}

/** An API key with every scope, straight in the database. */
export async function adminKey(db: TestDatabase, tenantId = "acme"): Promise<string> {
  const { secret } = await createApiKey(db.sql, {
    tenantId,
    name: "test",
    scopes: ["session:create", "session:read", "session:append", "keys:admin", "tenant:admin", "admin"],
  });
  return secret;
}

/** A server with auth on, on a given port (so a restart can reuse it) over a given database. */
export function startAuthServer(db: TestDatabase, port = 0): Promise<RunningServer> {
  return startServer({
    config: { port, host: "127.0.0.1", poolSize: 10 },
    databaseUrl: db.url,
    logger: silentLogger,
    auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET },
  });
}

/**
 * A TCP proxy in front of the server: real sockets that a test can cut. `dropAll()` destroys every
 * connection (a dropped WebSocket, a lost HTTP connection); `dropNextResponse()` lets the next request
 * through and destroys the connection when the server's answer arrives (a lost response).
 */
export interface Proxy {
  url: string;
  port: number;
  connections: number;
  dropAll(): void;
  dropNextResponse(): void;
  /** While paused, new connections are refused (closed at once). */
  refuse(on: boolean): void;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<Proxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let dropResponse = false;
  let refusing = false;
  let total = 0;
  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    total++;
    const upstream = net.connect(targetPort, "127.0.0.1");
    const pair = { client, upstream };
    pairs.add(pair);
    const end = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on("data", (chunk) => upstream.write(chunk));
    upstream.on("data", (chunk) => {
      if (dropResponse) {
        dropResponse = false;
        end();
        return;
      }
      client.write(chunk);
    });
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  const dropAll = () => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get connections() {
      return total;
    },
    dropAll,
    dropNextResponse() {
      dropResponse = true;
    },
    refuse(on: boolean) {
      refusing = on;
    },
    close() {
      dropAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Like `until`, for a condition that must be fetched (e.g. a server metric). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000, label = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${label}: not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
