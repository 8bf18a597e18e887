import net from "node:net";

/**
 * Sockets for postgres.js connections, made so that a socket that fails is closed for postgres.js at once.
 *
 * Why: postgres.js (3.4.9, the latest) rejects a connection's queries when its socket emits `error`, but leaves the
 * connection in its pool until the socket emits `close`, which Node does only once the handle has closed, a turn
 * of the event loop later. A query issued in between (any request handled in that turn) is executed on the dead
 * connection: it stays its `query` (or in its pipeline), `close` with `hadError` does not reject it, and when the
 * pool reconnects that connection for another query, the stale one is resolved with the new connection's startup
 * result (no rows) or with the result of the query sent after it, and every later query on that connection gets
 * the result of the one after it. Seen in the fault suite as an append acknowledged with another append's seq and
 * appends answered `internal_error` (`starcite.append` "returned" no row) after backends were terminated;
 * test/db/socket.test.ts reproduces it with postgres.js's own sockets. Emitting `close` right after `error` takes
 * the connection out of the pool before any other code runs, so no query can reach it.
 *
 * With TLS, postgres.js wraps this socket in a TLS socket of its own and listens to that one, so the guard does not
 * cover it (README, "Known limits").
 */
export function closeOnError<S extends net.Socket>(socket: S): S {
  const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
  let closed = false;
  socket.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event === "close") {
      if (closed) return false;
      closed = true;
      return emit(event, ...args);
    }
    if (event === "error") {
      // After the early close postgres.js has removed its listeners: a later error must not become an uncaught one.
      if (closed) return false;
      const handled = emit(event, ...args);
      closed = true;
      emit("close", true);
      return handled;
    }
    return emit(event, ...args);
  }) as S["emit"];
  return socket;
}

/** What postgres.js hands its `socket` option: its parsed connection options (the parts used here). */
interface SocketOptions {
  host: string[];
  port: number[];
  path?: string | false;
}

/**
 * postgres.js's `socket` option: a connecting TCP (or Unix) socket to the next of the configured hosts, in turn as
 * postgres.js itself goes through them, guarded by `closeOnError`. postgres.js writes its startup message at once;
 * Node holds it until the socket connects, and a failed connect arrives as `error` then `close`, as with postgres.js's
 * own sockets. `host` and `port` are set on the socket because postgres.js names the TLS server from `socket.host`.
 */
export function guardedSocketFactory(): (options: SocketOptions) => net.Socket {
  let next = 0;
  return (options) => {
    if (options.path) return closeOnError(net.connect(options.path));
    const i = next++ % options.host.length;
    const host = options.host[i]!;
    const port = options.port[i] ?? options.port[0]!;
    const socket = Object.assign(net.connect(port, host), { host, port });
    return closeOnError(socket);
  };
}
