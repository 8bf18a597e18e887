import http from "node:http";
import type { AddressInfo } from "node:net";
import { createYoga } from "graphql-yoga";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { ExecutionArgs } from "graphql";
import type { Config } from "../shared/config.ts";
import { createPool } from "../db/client.ts";
import { AppendBatcher, type BatcherOptions } from "../write/batcher.ts";
import { LiveHub, type HubOptions } from "../live/hub.ts";
import { NotificationListener } from "../live/listener.ts";
import type { Logger } from "../shared/logger.ts";
import type { Context } from "../graphql/context.ts";
import { createMaskError, syntaxErrors, useBadRequestCode } from "../graphql/errors.ts";
import { schema } from "../graphql/schema/index.ts";
import { Metrics } from "../shared/metrics.ts";
import { isJsonPost, serveJsonPost } from "./http-graphql.ts";
import { createSharedSubscribe } from "./subscriptions.ts";
import { Authenticator, bearer, type ExternalJwtConfig } from "../auth/authenticator.ts";
import type { AuthState } from "../auth/guard.ts";
import { SessionTokens } from "../auth/tokens.ts";
import { StarciteError } from "../db/errors.ts";
import { CloseCode } from "@starcite/sdk/protocol";
import { handleRest, handleTailUpgrade, TailStreams, type RestDeps } from "../rest/index.ts";
import type { TailStreamsOptions } from "../rest/streams.ts";

export interface ServerOptions {
  config: Pick<Config, "port" | "host" | "poolSize">;
  databaseUrl: string;
  logger: Logger;
  /** GraphiQL at /graphql in a browser (default: when NODE_ENV is not production). */
  graphiql?: boolean;
  hub?: HubOptions;
  batcher?: BatcherOptions;
  auth: {
    /** "none" disables authentication (local experiments only). */
    mode: "required" | "none";
    /** HS256 secret for session tokens (>= 32 characters). */
    tokenSecret: string;
    external?: ExternalJwtConfig;
    keyCacheMs?: number;
  };
  /** REST tails (plain WebSocket, SSE): heartbeat interval. */
  rest?: TailStreamsOptions;
}

export interface RunningServer {
  /** http://host:port (no trailing slash). */
  url: string;
  port: number;
  metrics: Metrics;
  hub: LiveHub;
  authenticator: Authenticator;
  /** Bytes queued in userland for each open WebSocket (backpressure introspection). */
  wsBufferedBytes(): number[];
  /** Graceful stop: refuse new work, finish in-flight appends, close subscriptions (1001), release the database. */
  close(): Promise<void>;
}

interface ServerContext {
  req: http.IncomingMessage;
  res?: http.ServerResponse;
  /** Authentication done before Yoga runs: once per connection for graphql-ws, per request on the JSON fast path. */
  presetAuth?: AuthState;
}

/** A WebSocket credential: connection_init payload `{ authorization: "Bearer ..." }`, or ?access_token= on the URL. */
function wsCredential(params: Record<string, unknown> | undefined, request: http.IncomingMessage): string | undefined {
  const header = params?.authorization ?? params?.Authorization;
  if (typeof header === "string") return bearer(header) ?? header;
  const url = new URL(request.url ?? "/", "http://localhost");
  return url.searchParams.get("access_token") ?? undefined;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { config, databaseUrl, logger } = options;
  const metrics = new Metrics();
  const sql = createPool(databaseUrl, { max: config.poolSize });
  const listener = new NotificationListener(databaseUrl);
  await listener.start();
  const hub = new LiveHub(sql, listener, metrics, logger, options.hub);
  const batcher = new AppendBatcher(sql, metrics, options.batcher);
  const authenticator = new Authenticator(sql, {
    mode: options.auth.mode,
    tokens: new SessionTokens(options.auth.tokenSecret),
    ...(options.auth.external ? { external: options.auth.external } : {}),
    ...(options.auth.keyCacheMs !== undefined ? { keyCacheMs: options.auth.keyCacheMs } : {}),
  });
  let closing = false;
  const rest: RestDeps = { sql, hub, batcher, authenticator, logger, closing: () => closing, streams: new TailStreams(options.rest) };

  const maskError = createMaskError(logger);
  const sharedSubscribe = createSharedSubscribe(maskError, (how) => metrics.tailResults.inc({ how }));
  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    graphiql: (options.graphiql ?? process.env.NODE_ENV !== "production") ? { subscriptionsProtocol: "WS" } : false,
    landingPage: false,
    logging: false,
    maskedErrors: { maskError },
    plugins: [useBadRequestCode()],
    context: async (initial): Promise<Context> => {
      const auth = initial.presetAuth ?? (await authenticator.state(bearer(initial.request.headers.get("authorization"))));
      return { sql, hub, batcher, logger, authenticator, auth };
    },
  });

  let inflight = 0;
  let settled: (() => void) | null = null;
  const server = http.createServer(async (req, res) => {
    inflight++;
    res.once("close", () => {
      inflight--;
      if (inflight === 0) settled?.();
    });
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/health/live") {
      res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
      return;
    }
    if (path === "/health/ready") {
      let database = false;
      try {
        await sql`select 1`;
        database = true;
      } catch {
        database = false;
      }
      const ok = database && listener.connected && !closing;
      res.writeHead(ok ? 200 : 503, { "content-type": "application/json" })
        .end(JSON.stringify({ status: ok ? "ok" : "unavailable", database, listener: listener.connected, shuttingDown: closing }));
      return;
    }
    if (path === "/metrics") {
      res.writeHead(200, { "content-type": metrics.registry.contentType }).end(await metrics.registry.metrics());
      return;
    }
    if (await handleRest(req, res, rest)) return;
    if (closing) {
      res.writeHead(503, { "content-type": "application/json", connection: "close" })
        .end('{"errors":[{"message":"the server is shutting down","extensions":{"code":"shutting_down"}}]}');
      return;
    }
    if (path === "/graphql" && isJsonPost(req)) {
      try {
        const auth = await authenticator.state(bearer(req.headers.authorization));
        await serveJsonPost(req, res, yoga.getEnveloped as unknown as Parameters<typeof serveJsonPost>[2], auth);
      } catch (error) {
        logger.error("unexpected error", { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json" })
            .end('{"errors":[{"message":"Unexpected error.","extensions":{"code":"internal_error"}}]}');
        }
      }
      return;
    }
    return yoga.handle(req, res, { req, res });
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    if (new URL(req.url ?? "/", "http://localhost").pathname !== "/graphql") return handleTailUpgrade(req, socket, head, rest);
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  });
  const wsServer = useServer<Record<string, unknown> | undefined, { auth: AuthState }>(
    {
      onConnect: async (ctx) => {
        const auth = await authenticator.state(wsCredential(ctx.connectionParams, ctx.extra.request));
        const failure = auth.error ?? (auth.principal ? undefined : new StarciteError("unauthorized", "missing credentials"));
        if (failure) {
          // The reason is "<code>: <message>" (at most 123 bytes); it never echoes the credential.
          ctx.extra.socket.close(CloseCode.Unauthorized, `${failure.code}: ${failure.message}`.slice(0, 120));
          return false;
        }
        ctx.extra.auth = auth;
        return true;
      },
      execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args) as never,
      subscribe: (args) => sharedSubscribe(args as Parameters<typeof sharedSubscribe>[0]) as never,
      onSubscribe: async (ctx, _id, payload) => {
        const { schema: s, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          presetAuth: ctx.extra.auth ?? {},
        });
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return syntaxErrors(error);
        }
        const args: ExecutionArgs = {
          schema: s,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        return args;
      },
    },
    wss,
  );

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;

  return {
    url: `http://${host}:${port}`,
    port,
    metrics,
    hub,
    authenticator,
    wsBufferedBytes: () => [...[...wss.clients].map((c) => c.bufferedAmount), ...rest.streams.bufferedBytes()],
    async close() {
      if (closing) return;
      closing = true;
      const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await batcher.drain();
      // 1001 (going away) is retryable: clients resubscribe elsewhere from their cursor.
      for (const socket of wss.clients) socket.close(CloseCode.GoingAway, "server shutting down");
      rest.streams.closeAll();
      await wsServer.dispose();
      hub.close();
      // Let responses already being produced reach their clients before cutting connections.
      if (inflight > 0) {
        await new Promise<void>((resolve) => {
          settled = resolve;
          setTimeout(resolve, 5000).unref();
        });
      }
      server.closeAllConnections();
      await httpClosed;
      await listener.stop();
      await sql.end({ timeout: 5 });
    },
  };
}
