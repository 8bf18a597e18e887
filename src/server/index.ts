import http from "node:http";
import type { AddressInfo } from "node:net";
import { CloseCode } from "@starcite/sdk/protocol";
import { Authenticator, bearer, type ExternalJwtConfig } from "../auth/authenticator.ts";
import type { FailureLimit } from "../auth/limiter.ts";
import { SessionTokens } from "../auth/tokens.ts";
import { createPool, ping } from "../db/client.ts";
import { NotificationListener } from "../db/listener.ts";
import { archiveAwareRead } from "../archive/reader.ts";
import type { ObjectStore } from "../archive/store.ts";
import { postgresRead } from "../db/events.ts";
import { ChangeFeeds } from "../live/changes.ts";
import { LiveHub, type HubOptions } from "../live/hub.ts";
import { startWorkers, type Workers, type WorkersOptions } from "../workers/index.ts";
import type { Config } from "../shared/config.ts";
import { HTTP_LIMITS, SOCKET_LIMITS } from "../shared/limits.ts";
import type { Logger } from "../shared/logger.ts";
import { Metrics } from "../shared/metrics.ts";
import { AppendBatcher, type BatcherOptions } from "../write/batcher.ts";
import { createGraphQLEngine } from "./graphql.ts";
import type { CorsOrigins } from "./guards.ts";
import { createRequestHandler } from "./http.ts";
import { gracefulStop, InflightResponses } from "./lifecycle.ts";
import { createGraphQLWebSockets } from "./websocket.ts";
import { handleRest, handleTailUpgrade, TailStreams, type RestDeps } from "../rest/index.ts";
import type { TailStreamsOptions } from "../rest/streams.ts";
import {
  handleStreams,
  LiveResponses,
  startStreamSweeper,
  STREAMS_CORS,
  STREAMS_DEFAULTS,
  WakeDispatcher,
  WakeKeys,
  type StreamsDeps,
  type StreamsOptions,
} from "../streams/index.ts";

export interface ServerOptions {
  config: Pick<Config, "port" | "host" | "poolSize">;
  databaseUrl: string;
  logger: Logger;
  /** GraphiQL at /graphql in a browser (default: when NODE_ENV is not production). */
  graphiql?: boolean;
  /**
   * The two paths that bypass parts of Yoga for speed: JSON POSTs through the envelop pipeline without the
   * Fetch adapter, and tail results shared across subscribers (default on; STARCITE_FAST_PATHS=off turns them
   * off, and the contract tests run both ways).
   */
  fastPaths?: boolean;
  hub?: HubOptions;
  batcher?: BatcherOptions;
  /** Origins browsers may call from (default: "*" without credentials; in production none, i.e. same-origin only). */
  cors?: CorsOrigins;
  /** Schema introspection (default: on, except in production). */
  introspection?: boolean;
  /** Request and socket limits (defaults in src/shared/limits.ts). */
  limits?: Partial<ServerLimits>;
  auth: {
    /** "none" disables authentication (local experiments only). */
    mode: "required" | "none";
    /** HS256 secret for session tokens (>= 32 characters). */
    tokenSecret: string;
    external?: ExternalJwtConfig;
    keyCacheMs?: number;
    /** Failed authentications per client address (default 20 per 10 s; failures: 0 turns it off). */
    failureLimit?: FailureLimit;
  };
  /** GraphQL WebSockets (/graphql): how often each is pinged; one that has not answered by the next ping is cut. */
  keepaliveMs?: number;
  /** REST tails (plain WebSocket, SSE): heartbeat interval. */
  rest?: TailStreamsOptions;
  /** Durable Streams at /v1/stream/: long-poll timeout, SSE response lifetime and heartbeat. */
  streams?: StreamsOptions;
  /** Where archived ranges live (README "Archive"); reads below Postgres's range come from here. */
  archive?: ObjectStore | null;
  /** The background workers (retention, archiver, webhooks); false: none in this process. */
  workers?: WorkersOptions | false;
}

export interface ServerLimits {
  bodyBytes: number;
  frameBytes: number;
  operationsPerSocket: number;
  socketsPerCredential: number;
  sendAheadBytes: number;
}

export interface RunningServer {
  /** http://host:port (no trailing slash). */
  url: string;
  port: number;
  metrics: Metrics;
  hub: LiveHub;
  authenticator: Authenticator;
  /** The background workers, unless turned off. */
  workers: Workers | null;
  /** Bytes queued in userland for each open WebSocket (backpressure introspection). */
  wsBufferedBytes(): number[];
  /** Open Durable Streams long-polls and SSE responses. */
  liveStreams(): number;
  /** Graceful stop: refuse new work, finish in-flight appends, close subscriptions (1001), release the database. */
  close(): Promise<void>;
}

/**
 * The composition root: one pool, one LISTEN connection, the live hub, the write batcher and the
 * authenticator, shared by the HTTP handler and the WebSocket transports on one port.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { config, databaseUrl, logger } = options;
  const fastPaths = options.fastPaths ?? true;
  const metrics = new Metrics();
  const sql = createPool(databaseUrl, { max: config.poolSize });
  const listener = new NotificationListener(databaseUrl);
  await listener.start();
  const hub = new LiveHub(
    sql,
    listener,
    metrics,
    logger,
    options.hub,
    options.archive ? archiveAwareRead(sql, options.archive) : postgresRead(sql),
  );
  const changes = new ChangeFeeds(listener, options.hub?.unavailableAfterMs);
  const batcher = new AppendBatcher(sql, metrics, { logger, ...options.batcher });
  const authenticator = new Authenticator(sql, {
    mode: options.auth.mode,
    tokens: new SessionTokens(options.auth.tokenSecret),
    ...(options.auth.external ? { external: options.auth.external } : {}),
    ...(options.auth.keyCacheMs !== undefined ? { keyCacheMs: options.auth.keyCacheMs } : {}),
    ...(options.auth.failureLimit ? { failureLimit: options.auth.failureLimit } : {}),
  });
  const production = process.env.NODE_ENV === "production";
  const limits: ServerLimits = {
    bodyBytes: HTTP_LIMITS.bodyBytes,
    frameBytes: SOCKET_LIMITS.frameBytes,
    operationsPerSocket: SOCKET_LIMITS.operationsPerSocket,
    socketsPerCredential: SOCKET_LIMITS.socketsPerCredential,
    sendAheadBytes: SOCKET_LIMITS.sendAheadBytes,
    ...options.limits,
  };
  let closing = false;
  const streamOptions = { ...STREAMS_DEFAULTS, ...options.streams };
  // What every transport's operations get (AppContext without the caller). One URL policy for every webhook:
  // endpoints and Durable Streams subscriptions.
  const core = {
    sql,
    hub,
    changes,
    batcher,
    authenticator,
    logger,
    allowLocalHttpWebhooks: streamOptions.allowLocalHttpWebhooks,
  };
  const rest: RestDeps = { ...core, closing: () => closing, streams: new TailStreams(options.rest) };
  const wakeKeys = new WakeKeys(options.auth.tokenSecret);
  const dispatcher = new WakeDispatcher(sql, listener, wakeKeys, logger);
  dispatcher.start();
  const durableStreams: StreamsDeps = {
    ...core,
    closing: () => closing,
    options: streamOptions,
    live: new LiveResponses(streamOptions.heartbeatMs),
    subscriptions: { keys: wakeKeys, dispatcher, allowLocalHttp: core.allowLocalHttpWebhooks },
  };
  const stopSweeper = startStreamSweeper(sql, logger);

  const engine = createGraphQLEngine({
    context: (auth) => ({ ...core, auth }),
    authenticate: (header) => authenticator.state(bearer(header)),
    logger,
    graphiql: options.graphiql ?? !production,
    introspection: options.introspection ?? !production,
    countTailResult: (how) => metrics.tailResults.inc({ how }),
  });
  const inflight = new InflightResponses();
  const handle = createRequestHandler({
    engine,
    authenticator,
    metrics,
    logger,
    fastPaths,
    guards: { cors: options.cors ?? (production ? [] : "*"), maxBodyBytes: limits.bodyBytes, logger, routeCors: [STREAMS_CORS] },
    isClosing: () => closing,
    streams: (req, res) => handleStreams(req, res, durableStreams),
    rest: (req, res) => handleRest(req, res, rest),
    readiness: async () => {
      const database = await ping(sql).then(
        () => true,
        () => false,
      );
      const ok = database && listener.connected && !closing;
      return { ok, detail: { database, listener: listener.connected, shuttingDown: closing } };
    },
  });
  const server = http.createServer((req, res) => {
    inflight.track(res);
    void handle(req, res);
  });
  // `Expect: 100-continue`: refuse an oversized body before the client sends it.
  server.on("checkContinue", (req, res) => {
    inflight.track(res);
    if (Number(req.headers["content-length"] ?? 0) <= limits.bodyBytes) res.writeContinue();
    void handle(req, res);
  });
  const sockets = createGraphQLWebSockets({
    engine,
    authenticator,
    logger,
    fastPaths,
    ...(options.keepaliveMs !== undefined ? { keepaliveMs: options.keepaliveMs } : {}),
    limits: {
      frameBytes: limits.frameBytes,
      operationsPerSocket: limits.operationsPerSocket,
      socketsPerCredential: limits.socketsPerCredential,
      sendAheadBytes: limits.sendAheadBytes,
    },
  });
  server.on("upgrade", (req, socket, head) => {
    if (closing || !(sockets.handleUpgrade(req, socket, head) || handleTailUpgrade(req, socket, head, rest))) {
      socket.end(`HTTP/1.1 ${closing ? "503 Service Unavailable" : "404 Not Found"}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  }).catch(async (error: unknown) => {
    stopSweeper();
    dispatcher.stop();
    await listener.stop();
    await sql.end({ timeout: 1 });
    throw error;
  });
  const port = (server.address() as AddressInfo).port;
  const workers =
    options.workers === false ? null : startWorkers(sql, databaseUrl, listener, logger, options.archive ?? null, options.workers);
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;

  let stopped: Promise<void> | null = null;
  let httpClosed: Promise<void> = Promise.resolve();
  return {
    url: `http://${host}:${port}`,
    port,
    metrics,
    hub,
    authenticator,
    workers,
    wsBufferedBytes: () => [...sockets.bufferedBytes(), ...rest.streams.bufferedBytes()],
    liveStreams: () => durableStreams.live.size,
    close() {
      stopped ??= gracefulStop({
        refuseNew: () => {
          closing = true;
          httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeIdleConnections();
        },
        drainWrites: () => batcher.drain(),
        closeStreams: async () => {
          await workers?.stop();
          await sockets.close(CloseCode.GoingAway, "server shutting down");
          rest.streams.closeAll();
          durableStreams.live.closeAll();
          dispatcher.stop();
          stopSweeper();
          hub.close();
          changes.close();
        },
        closeHttp: async () => {
          await inflight.settled(5000);
          server.closeAllConnections();
          await httpClosed;
        },
        releaseDatabase: async () => {
          await listener.stop();
          await sql.end({ timeout: 5 });
        },
      });
      return stopped;
    },
  };
}
