import type http from "node:http";
import type { Duplex } from "node:stream";
import { getOperationAST, type ExecutionArgs } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { CloseCode } from "@starcite/sdk/protocol";
import { bearer, type Authenticator } from "../auth/authenticator.ts";
import type { AuthState } from "../auth/guard.ts";
import { StarciteError } from "../db/errors.ts";
import { syntaxErrors } from "../graphql/errors.ts";
import { EncodedResult, FrameSocket } from "./frames.ts";
import type { GraphQLEngine } from "./graphql.ts";

export interface WebSocketDeps {
  engine: GraphQLEngine;
  authenticator: Authenticator;
  /** Tail batches share one GraphQL result per batch (see subscriptions.ts); off: Yoga's own execute/subscribe. */
  fastPaths: boolean;
}

export interface WebSockets {
  /** Takes an HTTP upgrade if its path is served here; false leaves it to another handler. */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Bytes queued in userland for each open WebSocket (backpressure introspection). */
  bufferedBytes(): number[];
  /** Closes every socket with `code` and stops graphql-ws. */
  close(code: number, reason: string): Promise<void>;
}

interface Enveloped {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

/** A WebSocket credential: connection_init payload `{ authorization: "Bearer ..." }`, or ?access_token= on the URL. */
function wsCredential(params: Record<string, unknown> | undefined, request: http.IncomingMessage): string | undefined {
  const header = params?.authorization ?? params?.Authorization;
  if (typeof header === "string") return bearer(header) ?? header;
  const url = new URL(request.url ?? "/", "http://localhost");
  return url.searchParams.get("access_token") ?? undefined;
}

/**
 * graphql-ws on /graphql. The credential is checked once, in connection_init; a refused one closes the socket
 * with 4401 and the reason "<code>: <message>". Operations run through the same Yoga envelop pipeline (and
 * context factory) as HTTP.
 */
export function createGraphQLWebSockets(deps: WebSocketDeps): WebSockets {
  const { engine, authenticator } = deps;
  // noServer: upgrades are routed by path, and listen errors stay with the HTTP server.
  // FrameSocket writes tail batches serialised once for all their subscribers (frames.ts).
  const wss = new WebSocketServer({ noServer: true, WebSocket: FrameSocket });
  const graphqlWs = useServer<Record<string, unknown> | undefined, { auth: AuthState }>(
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
      // rootValue carries the envelop pipeline's own execute/subscribe (set in onSubscribe below).
      execute: (args) => (args.rootValue as Enveloped).execute(args) as never,
      subscribe: (args) => (deps.fastPaths ? engine.sharedSubscribe(args) : (args.rootValue as Enveloped).subscribe(args)) as never,
      // A shared, already serialised batch goes out as it is.
      onNext: (_ctx, _id, _payload, _args, result) => (result instanceof EncodedResult ? (result as never) : undefined),
      onSubscribe: async (ctx, _id, payload) => {
        const envelop = (presetAuth: AuthState) =>
          engine.yoga.getEnveloped({ ...ctx, req: ctx.extra.request, socket: ctx.extra.socket, params: payload, presetAuth });
        let enveloped = envelop(ctx.extra.auth ?? {});
        let document;
        try {
          document = enveloped.parse(payload.query);
        } catch (error) {
          return syntaxErrors(error);
        }
        // A query or mutation (an append over the socket a client already holds) is authenticated as an HTTP
        // request would be: a key revoked since the socket opened stops working here too.
        if (getOperationAST(document, payload.operationName)?.operation !== "subscription") {
          enveloped = envelop(await authenticator.state(wsCredential(ctx.connectionParams, ctx.extra.request)));
        }
        const { schema, execute, subscribe, contextFactory, validate } = enveloped;
        const args: ExecutionArgs = {
          schema,
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

  return {
    handleUpgrade(req, socket, head) {
      if ((req.url ?? "/").split("?")[0] !== "/graphql") return false;
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
      return true;
    },
    bufferedBytes: () => [...wss.clients].map((c) => c.bufferedAmount),
    async close(code, reason) {
      for (const socket of wss.clients) socket.close(code, reason);
      await graphqlWs.dispose();
    },
  };
}
