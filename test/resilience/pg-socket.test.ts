/**
 * postgres.js and a socket that fails (src/db/socket.ts): a query issued after the socket's `error` and before its
 * `close` must get its own result, never another query's or an empty one. With postgres.js's own sockets (3.4.9)
 * such a query is executed on the dead connection and never gets its own answer: with these steps and a pool of
 * one, it and every later query wait forever; under load (the fault suite, backends terminated while appends run)
 * it was resolved with the next connection's startup result (no rows) or the next query's rows.
 */
import net from "node:net";
import postgres from "postgres";
import { afterEach, expect, inject, test } from "vitest";
import { createPool } from "../../src/db/client.ts";
import { closeOnError } from "../../src/db/socket.ts";

const pools: { end(options?: { timeout?: number }): Promise<void> }[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.end({ timeout: 1 });
});

/** A pool of one connection whose sockets are made by `make` and kept in `sockets`. */
function poolWith(make: (socket: net.Socket) => net.Socket, sockets: net.Socket[]) {
  const url = new URL(inject("pgAdminUrl"));
  const sql = postgres(url.toString(), {
    max: 1,
    onnotice: () => {},
    ...({
      socket: () => {
        const socket = make(net.connect(Number(url.port), url.hostname));
        sockets.push(socket);
        return socket;
      },
    } as object),
  });
  pools.push(sql);
  return sql;
}

/**
 * Fails the connection's socket, and issues `select 2` after postgres.js has seen the error but before `close`.
 * Resolves once the query is issued, with its result in a box (a promise would be adopted: awaited here).
 */
async function queryBetweenErrorAndClose(sql: postgres.Sql, socket: net.Socket): Promise<{ result: Promise<unknown> }> {
  return new Promise((resolve) => {
    // Registered before postgres.js's listener: the query goes out in a microtask, once every listener has run.
    socket.prependListener("error", () => queueMicrotask(() => resolve({ result: sql`select 2 as n`.then((rows) => [...rows]) })));
    socket.destroy(Object.assign(new Error("connection reset by the test"), { code: "ECONNRESET" }));
  });
}

test("with closeOnError, that query runs on a new connection and gets its own result", async () => {
  const sockets: net.Socket[] = [];
  const sql = poolWith(closeOnError, sockets);
  expect([...(await sql`select 1 as n`)]).toEqual([{ n: 1 }]);
  const query = await queryBetweenErrorAndClose(sql, sockets[0]!);
  expect(await query.result).toEqual([{ n: 2 }]);
  expect(sockets).toHaveLength(2);
  expect([...(await sql`select 3 as n`)]).toEqual([{ n: 3 }]);
});

test("the server's pools use the guard: the same failure leaves every query its own result", async () => {
  const url = new URL(inject("pgAdminUrl"));
  const sql = createPool(url.toString(), { max: 1, fetchTypes: false });
  pools.push(sql);
  expect([...(await sql`select 1 as n`)]).toEqual([{ n: 1 }]);
  // The pool's socket: the only TCP connection of this pool, found through the backend's client port.
  const [row] = await sql<{ port: number }[]>`select inet_client_port() as port`;
  const socket = findSocket(row!.port);
  const query = await queryBetweenErrorAndClose(sql as unknown as postgres.Sql, socket);
  expect(await query.result).toEqual([{ n: 2 }]);
});

/** The process's open TCP socket whose local port is `port` (the pool's connection). */
function findSocket(port: number): net.Socket {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  const socket = handles.find((h): h is net.Socket => h instanceof net.Socket && h.localPort === port);
  if (!socket) throw new Error(`no socket on local port ${port}`);
  return socket;
}
