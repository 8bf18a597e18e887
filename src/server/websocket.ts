import { setMaxListeners } from "node:events";
import type http from "node:http";
import type { Duplex } from "node:stream";
import { getOperationAST, GraphQLError, type ExecutionArgs } from "graphql";
import { CloseCode, handleProtocols, makeServer } from "graphql-ws";
import { WebSocketServer, type WebSocket } from "ws";
import { CloseCode as StarciteClose } from "@starcite/sdk/protocol";
import { bearer, type Authenticator } from "../auth/authenticator.ts";
import { clientAddress } from "../auth/limiter.ts";
import type { AuthState } from "../auth/guard.ts";
import { StarciteError } from "../db/errors.ts";
import { syntaxErrors } from "../graphql/errors.ts";
import type { NextSink } from "./direct-delivery.ts";
import { EncodedResult, messageBytes, messageWith, nextHead, withEncodedPayload, type MessageParts } from "./frames.ts";
import { Heartbeats } from "../shared/heartbeats.ts";
import type { Logger } from "../shared/logger.ts";
import type { GraphQLEngine } from "./graphql.ts";

export interface SocketLimits {
  /** Largest incoming frame; a larger one closes the socket with 1009. */
  frameBytes: number;
  /** Running operations per socket. */
  operationsPerSocket: number;
  /** Open sockets per credential. */
  socketsPerCredential: number;
  /** Unsent bytes a socket may hold before the next message waits for the client to read. */
  sendAheadBytes: number;
}

export interface WebSocketDeps {
  engine: GraphQLEngine;
  authenticator: Authenticator;
  logger: Logger;
  limits: SocketLimits;
  /** Tail batches share one GraphQL result per batch (see subscriptions.ts); off: Yoga's own execute/subscribe. */
  fastPaths: boolean;
  /** How often open sockets' credentials are checked again (revocation, expiry). */
  recheckMs?: number;
  /** How often each socket is pinged; one that has not answered a ping by the next is cut (default 12 s). */
  keepaliveMs?: number;
}

export interface WebSockets {
  /** Takes an HTTP upgrade if its path is served here; false leaves it to another handler. */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Bytes queued in userland for each open WebSocket (backpressure introspection). */
  bufferedBytes(): number[];
  /** Closes every socket with `code` and stops taking new ones. */
  close(code: number, reason: string): Promise<void>;
}

interface Enveloped {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

/** One open socket, as the credential registry sees it. */
interface Connection {
  credential: string | undefined;
  /** Aborted (reason: the StarciteError) when the credential is revoked or expires: see AuthState.lapse. */
  lapse: AbortController;
}

interface Extra {
  socket: WebSocket;
  request: http.IncomingMessage;
  /** Writes a message on the socket, corked with the rest of this tick's; `done` once it is written. */
  write: (message: string | Buffer | MessageParts, done?: (error?: Error) => void) => void;
  auth?: AuthState;
  connection?: Connection;
}

/** Messages a graphql-transport-ws client may send; anything else is a protocol violation (4400), not a server error. */
const CLIENT_MESSAGES = new Set(["connection_init", "ping", "pong", "subscribe", "complete"]);

/** The server's ping interval on /graphql sockets (docs/protocol.md); a ping unanswered by the next one cuts the socket. */
export const DEFAULT_KEEPALIVE_MS = 12_000;

/** A WebSocket credential: connection_init payload `{ authorization: "Bearer ..." }`, or ?access_token= on the URL. */
function wsCredential(params: Record<string, unknown> | undefined, request: http.IncomingMessage): string | undefined {
  const header = params?.authorization ?? params?.Authorization;
  if (typeof header === "string") return bearer(header) ?? header;
  const url = new URL(request.url ?? "/", "http://localhost");
  return url.searchParams.get("access_token") ?? undefined;
}

const closeReason = (error: StarciteError) => `${error.code}: ${error.message}`.slice(0, 120);

const coded = (error: StarciteError) => new GraphQLError(error.message, { extensions: { code: error.code, ...error.detail } });

/**
 * graphql-ws on /graphql, over graphql-ws's transport-agnostic server and our own `ws` adapter, so that a
 * frame a client may not send is 4400 (not 4500), frames and operations are bounded, and a credential is
 * re-checked while its sockets are open: once it is revoked or expires, new operations are refused and running
 * tails end with its code. Operations run through the same Yoga envelop pipeline (and context factory) as HTTP.
 */
export function createGraphQLWebSockets(deps: WebSocketDeps): WebSockets {
  const { engine, authenticator, logger, limits } = deps;
  // noServer: upgrades are routed by path, and listen errors stay with the HTTP server.
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.frameBytes, handleProtocols: (p) => handleProtocols(p) });
  const byCredential = new Map<string, Set<Connection>>();
  const recheckMs = deps.recheckMs ?? 1000;
  const heartbeats = new Heartbeats(deps.keepaliveMs ?? DEFAULT_KEEPALIVE_MS);

  const register = (connection: Connection) => {
    if (connection.credential === undefined) return;
    let set = byCredential.get(connection.credential);
    if (!set) byCredential.set(connection.credential, (set = new Set()));
    set.add(connection);
  };
  const unregister = (connection: Connection | undefined) => {
    if (!connection || connection.credential === undefined) return;
    const set = byCredential.get(connection.credential);
    set?.delete(connection);
    if (set?.size === 0) byCredential.delete(connection.credential);
  };

  // Revocation and expiry reach open sockets: each distinct credential is verified again, trusting the key
  // cache for at most (keyCacheMs - recheckMs), so a revocation anywhere takes effect within keyCacheMs.
  const recheck = setInterval(() => {
    for (const [credential, connections] of byCredential) {
      void authenticator.state(credential, { maxAgeMs: Math.max(0, authenticator.keyCacheMs - recheckMs) }).then((auth) => {
        const p = auth.principal;
        const error =
          auth.error && auth.error.code !== "database_unavailable"
            ? auth.error
            : p && p.expiresAt !== null && p.expiresAt <= Date.now()
              ? p.kind === "service"
                ? new StarciteError("unauthorized", "the API key has expired")
                : new StarciteError("token_expired", "the token has expired")
              : undefined;
        if (!error) return;
        for (const c of connections) if (!c.lapse.signal.aborted) c.lapse.abort(error);
      });
    }
  }, recheckMs);
  recheck.unref();

  /**
   * Where a directly delivered tail (direct-delivery.ts) writes its `next` messages: the same bytes graphql-ws
   * would send, under the adapter's send-ahead rule (below), checked before the write with the message's size so
   * that only the message that reaches the allowance carries a write callback.
   */
  const nextSink = (extra: Extra, id: string): NextSink => {
    // A string, not a Buffer: a small Buffer is a slice of a shared 8 KiB pool, which it would keep alive.
    const head = nextHead(id);
    return {
      next(payload, drained) {
        const { socket } = extra;
        if (socket.readyState !== socket.OPEN) return false;
        const message = messageWith(head, payload);
        // Up to sendAheadBytes unsent, go on at once; the message that reaches it is waited for.
        if (socket.bufferedAmount + messageBytes(message) < limits.sendAheadBytes) {
          extra.write(message);
          return true;
        }
        extra.write(message, drained);
        return false;
      },
    };
  };

  const server = makeServer<Record<string, unknown> | undefined, Extra>({
    onConnect: async (ctx) => {
      const { request, socket } = ctx.extra;
      const credential = wsCredential(ctx.connectionParams, request);
      const auth = await authenticator.state(credential, { client: clientAddress(request) });
      if (auth.error?.code === "too_many_requests") {
        socket.close(StarciteClose.TryAgainLater, closeReason(auth.error));
        return false;
      }
      const failure = auth.error ?? (auth.principal ? undefined : new StarciteError("unauthorized", "missing credentials"));
      if (failure) {
        // The reason is "<code>: <message>" (at most 123 bytes); it never echoes the credential.
        socket.close(CloseCode.Unauthorized, closeReason(failure));
        return false;
      }
      const key = authenticator.mode === "required" ? credential : undefined;
      if (key !== undefined && (byCredential.get(key)?.size ?? 0) >= limits.socketsPerCredential) {
        socket.close(
          StarciteClose.TryAgainLater,
          closeReason(new StarciteError("too_many_requests", `more than ${limits.socketsPerCredential} open sockets for this credential`)),
        );
        return false;
      }
      const connection: Connection = { credential: key, lapse: new AbortController() };
      // Every running tail on the socket listens to it (at most operationsPerSocket of them): not a leak.
      setMaxListeners(limits.operationsPerSocket + 1, connection.lapse.signal);
      register(connection);
      ctx.extra.connection = connection;
      ctx.extra.auth = { ...auth, lapse: connection.lapse.signal };
      return true;
    },
    // rootValue carries the envelop pipeline's own execute/subscribe (set in onSubscribe below).
    execute: (args) =>
      (deps.fastPaths ? engine.execute(args, (args.rootValue as Enveloped).execute) : (args.rootValue as Enveloped).execute(args)) as never,
    subscribe: (args) => (deps.fastPaths ? engine.sharedSubscribe(args) : (args.rootValue as Enveloped).subscribe(args)) as never,
    // A shared, already serialised batch goes out as it is (frames.ts).
    onNext: (_ctx, _id, _payload, _args, result) => (result instanceof EncodedResult ? (result as never) : undefined),
    onSubscribe: async (ctx, id, payload) => {
      // ctx.subscriptions already holds this one.
      if (Object.keys(ctx.subscriptions).length > limits.operationsPerSocket) {
        return [
          coded(
            new StarciteError("too_many_requests", `at most ${limits.operationsPerSocket} operations may run on one socket`, {
              limit: "operationsPerSocket",
              max: limits.operationsPerSocket,
            }),
          ),
        ];
      }
      try {
        const { request, socket } = ctx.extra;
        const envelop = (presetAuth: AuthState) => engine.yoga.getEnveloped({ ...ctx, req: request, socket, params: payload, presetAuth });
        let enveloped = envelop(ctx.extra.auth ?? {});
        let document;
        try {
          document = enveloped.parse(payload.query);
        } catch (error) {
          return syntaxErrors(error);
        }
        // A query or mutation (an append over the socket a client already holds) is authenticated as an HTTP
        // request would be: a key revoked since the socket opened stops working here at once, not at the next recheck.
        if (getOperationAST(document, payload.operationName)?.operation !== "subscription") {
          const auth = await authenticator.state(wsCredential(ctx.connectionParams, request), { client: clientAddress(request) });
          enveloped = envelop(ctx.extra.auth?.lapse ? { ...auth, lapse: ctx.extra.auth.lapse } : auth);
        }
        const { schema, execute, subscribe, contextFactory } = enveloped;
        const errors = engine.validate(enveloped, document);
        if (errors.length) return [...errors];
        return {
          schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe, sink: nextSink(ctx.extra, id) },
        } satisfies ExecutionArgs;
      } catch (error) {
        logger.error("unexpected error", {
          where: "subscribe",
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
        return [coded(new StarciteError("internal_error", "Unexpected error."))];
      }
    },
    // Every error message carries extensions.code, whichever layer produced it (graphql-ws's own included).
    onError: (_ctx, _id, _payload, errors) =>
      errors.map((e) => {
        const json = e.toJSON();
        if (typeof json.extensions?.code === "string") return json;
        const original = (e as GraphQLError).originalError;
        const code = original instanceof StarciteError ? original.code : original ? "internal_error" : "bad_request";
        if (code === "internal_error") logger.error("unexpected error", { where: "operation", error: original?.stack ?? e.message });
        return { message: code === "internal_error" ? "Unexpected error." : e.message, extensions: { ...json.extensions, code } };
      }),
    onClose: (ctx) => unregister(ctx.extra.connection),
  });

  wss.on("connection", (socket: WebSocket, request: http.IncomingMessage) => {
    socket.once("error", (error) => {
      // ws reports oversized frames (and other protocol violations) here and closes with the right code itself.
      logger.debug("websocket error", { error: String(error) });
    });
    // A dead peer (a closed laptop lid, a dropped network) sends no FIN: it is found by its missing pong.
    let awaitingPong = false;
    socket.on("pong", () => void (awaitingPong = false));
    const stopHeartbeat = heartbeats.add({
      beat() {
        if (socket.readyState !== socket.OPEN) return;
        if (awaitingPong) {
          socket.terminate();
          return;
        }
        awaitingPong = true;
        socket.ping();
      },
    });
    // Messages sent in one tick leave in one write (a mutation's `next` and `complete`, a batch for several
    // tails): on these machines each write that wakes the client costs ~75 µs.
    let corked = false;
    const uncork = () => {
      corked = false;
      request.socket.uncork();
    };
    const write: Extra["write"] = (message, done) => {
      if (!corked) {
        corked = true;
        request.socket.cork();
        process.nextTick(uncork);
      }
      if (typeof message === "string") socket.send(message, done);
      else if (Buffer.isBuffer(message)) socket.send(message, { binary: false }, done);
      else {
        // A catch-up frame: one text message in three fragments (the frame's bytes are written as they are,
        // never copied into a message), corked into one write.
        request.socket.cork();
        socket.send(message[0], { binary: false, fin: false });
        socket.send(message[1], { binary: false, fin: false });
        socket.send(message[2], { binary: false, fin: true }, done);
        request.socket.uncork();
      }
    };
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            // Taken even when the socket has closed, so that no other message can pick up this one's payload.
            const message = withEncodedPayload(data);
            if (socket.readyState !== socket.OPEN) return resolve();
            write(message, (err) => (err ? reject(err) : resolve()));
            // graphql-ws waits for this before it takes a tail's next batch: waiting for the write itself would
            // cost a round trip with the client per message. Up to sendAheadBytes unsent, go on at once.
            if (socket.bufferedAmount < limits.sendAheadBytes) resolve();
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (cb) =>
          socket.on("message", async (data) => {
            const text = String(data);
            let type: unknown;
            try {
              type = (JSON.parse(text) as { type?: unknown } | null)?.type;
            } catch {
              type = undefined;
            }
            if (typeof type === "string" && !CLIENT_MESSAGES.has(type)) {
              socket.close(CloseCode.BadRequest, `Invalid message received: a client may not send ${type}`.slice(0, 120));
              return;
            }
            try {
              await cb(text);
            } catch (error) {
              // A peer that vanished mid-send (EPIPE, a reset) is the network's doing, not a server error.
              const code = (error as { code?: unknown }).code;
              if (socket.readyState !== socket.OPEN || code === "EPIPE" || code === "ECONNRESET") {
                logger.debug("websocket peer gone", { error: String(error) });
                socket.terminate();
                return;
              }
              logger.error("unexpected error", {
                where: "websocket",
                error: error instanceof Error ? (error.stack ?? error.message) : String(error),
              });
              socket.close(CloseCode.InternalServerError, "Internal server error");
            }
          }),
      },
      { socket, request, write },
    );
    socket.once("close", (code, reason) => {
      stopHeartbeat();
      void closed(code, String(reason));
    });
  });

  return {
    handleUpgrade(req, socket, head) {
      if ((req.url ?? "/").split("?")[0] !== "/graphql") return false;
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
      return true;
    },
    bufferedBytes: () => [...wss.clients].map((c) => c.bufferedAmount),
    async close(code, reason) {
      clearInterval(recheck);
      heartbeats.stop();
      for (const socket of wss.clients) socket.close(code, reason);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
