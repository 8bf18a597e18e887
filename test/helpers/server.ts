import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { loadConfig } from "../../src/shared/config.ts";
import { silentLogger } from "../../src/shared/logger.ts";
import { startServer, type RunningServer, type ServerOptions } from "../../src/server/index.ts";
import { createTestDatabase, type TestDatabase } from "./db.ts";

export const TEST_TOKEN_SECRET = "test-token-secret-0123456789-abcdefghij";

export interface GraphQLResponse<T = Record<string, unknown>> {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown>; path?: (string | number)[] }[];
}

export interface TestServer {
  db: TestDatabase;
  server: RunningServer;
  url: string;
  wsUrl: string;
  gql<T = Record<string, any>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse<T>>;
  wsClient(options?: Partial<Parameters<typeof createClient>[0]>): Client;
  close(): Promise<void>;
}

/** A real server on a real port over its own test database. */
export async function startTestServer(overrides: Partial<Omit<ServerOptions, "databaseUrl">> = {}, db?: TestDatabase): Promise<TestServer> {
  const database = db ?? (await createTestDatabase());
  const server = await startServer({
    config: { port: 0, host: "127.0.0.1", poolSize: 10 },
    databaseUrl: database.url,
    logger: silentLogger,
    // Most tests exercise the API itself; auth tests pass { auth: { mode: "required", ... } }.
    auth: { mode: "none", tokenSecret: TEST_TOKEN_SECRET },
    // The vitest project "no-fast-paths" runs the contract tests with STARCITE_FAST_PATHS=off.
    fastPaths: loadConfig().fastPaths,
    ...overrides,
  });
  const clients: Client[] = [];
  return {
    db: database,
    server,
    url: server.url,
    wsUrl: server.url.replace(/^http/, "ws") + "/graphql",
    async gql(query, variables, headers = {}) {
      const res = await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as GraphQLResponse<any>;
    },
    wsClient(options = {}) {
      const client = createClient({
        url: server.url.replace(/^http/, "ws") + "/graphql",
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: true,
        ...options,
      });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.dispose()));
      await server.close();
      if (!db) await database.drop();
    },
  };
}

export interface TailEvent {
  seq: number;
  type: string;
  payload: Record<string, unknown>;
  actor: string | null;
}

export interface TailBatchResult {
  events: TailEvent[];
  cursor: number;
  live: boolean;
}

export const TAIL_QUERY = `subscription Tail($sessionId: ID!, $cursor: Int) {
  tail(sessionId: $sessionId, cursor: $cursor) { cursor live events { seq type payload actor } }
}`;

/**
 * Subscribes to `tail` and collects batches; `until` resolves once a predicate over everything received holds.
 */
export function collectTail(client: Client, sessionId: string, cursor = 0) {
  const batches: TailBatchResult[] = [];
  const events: TailEvent[] = [];
  const errors: unknown[] = [];
  let completed = false;
  const watchers = new Set<() => void>();
  const notify = () => watchers.forEach((w) => w());
  const unsubscribe = client.subscribe<{ tail: TailBatchResult }>(
    { query: TAIL_QUERY, variables: { sessionId, cursor } },
    {
      next: (result) => {
        if (result.errors) errors.push(...result.errors);
        if (result.data?.tail) {
          batches.push(result.data.tail);
          events.push(...result.data.tail.events);
        }
        notify();
      },
      error: (error) => {
        errors.push(error);
        notify();
      },
      complete: () => {
        completed = true;
        notify();
      },
    },
  );
  return {
    batches,
    events,
    errors,
    get completed() {
      return completed;
    },
    unsubscribe,
    /** Resolves once the tail has ended (an error or complete); rejects if it is still running after `timeoutMs`. */
    ended(timeoutMs = 10_000, label = "tail to end"): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!errors.length && !completed) return;
          watchers.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`${label}: still running after ${timeoutMs} ms`));
        }, timeoutMs);
        watchers.add(check);
        check();
      });
    },
    until(predicate: () => boolean, timeoutMs = 20_000, label = "tail condition"): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (predicate()) {
            watchers.delete(check);
            clearTimeout(timer);
            resolve();
          } else if (errors.length || completed) {
            watchers.delete(check);
            clearTimeout(timer);
            reject(new Error(`${label}: tail ended (${completed ? "completed" : "error"}): ${JSON.stringify(errors)}`));
          }
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`${label}: timed out after ${timeoutMs} ms with ${events.length} events, last seq ${events.at(-1)?.seq}`));
        }, timeoutMs);
        watchers.add(check);
        check();
      });
    },
  };
}
