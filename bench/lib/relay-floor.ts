/**
 * The fan-out floor (bench/lib/child.ts kind "relay"): a server that relays and does nothing else. It speaks just
 * enough of what scenario 4's clients use: an `append` mutation over HTTP POST /graphql, and `tail` subscriptions
 * over graphql-transport-ws on /graphql. An append is written at once to the sockets subscribed to its session
 * (one shared payload, one short head per socket, corked as the real server corks) and then answered. No database,
 * no GraphQL execution, no durability, no cursor: what is left is Node's HTTP parsing and the socket writes, the
 * part of a fan-out that no server on this machine can skip.
 */
import http from "node:http";
import { WebSocketServer, type WebSocket } from "ws";

interface Subscriber {
  socket: WebSocket;
  raw: import("node:net").Socket;
  /** The subscription's `next` message up to its payload, as bytes (made once, at subscribe). */
  head: Buffer;
}

export async function startRelayFloor(): Promise<{ url: string; close(): Promise<void> }> {
  const bySession = new Map<string, Subscriber[]>();
  const seqs = new Map<string, number>();
  const server = http.createServer((req, res) => {
    if (req.method !== "POST" || req.url !== "/graphql") {
      res.statusCode = 404;
      res.end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as {
        variables?: { s?: string; e?: { type?: string; payload?: unknown } };
      };
      const sessionId = body.variables?.s ?? "";
      const seq = (seqs.get(sessionId) ?? 0) + 1;
      seqs.set(sessionId, seq);
      const event = { seq, sessionId, type: body.variables?.e?.type ?? "content", payload: body.variables?.e?.payload ?? {} };
      const shared = Buffer.from(
        JSON.stringify({ data: { tail: { events: [{ ...event, insertedAt: new Date().toISOString() }], cursor: seq, live: true } } }) + "}",
      );
      for (const sub of bySession.get(sessionId) ?? []) write(sub, Buffer.concat([sub.head, shared]));
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ data: { append: { seq, lastSeq: seq, deduped: false } } }));
    });
  });
  const corked = new Set<import("node:net").Socket>();
  const write = (sub: Subscriber, message: Buffer) => {
    if (!corked.has(sub.raw)) {
      corked.add(sub.raw);
      sub.raw.cork();
      process.nextTick(() => {
        corked.delete(sub.raw);
        sub.raw.uncork();
      });
    }
    sub.socket.send(message, { binary: false });
  };
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on("upgrade", (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const raw = req.socket;
      ws.on("message", (data: Buffer) => {
        const msg = JSON.parse(data.toString()) as { type: string; id?: string; payload?: { variables?: { s?: string } } };
        if (msg.type === "connection_init") ws.send('{"type":"connection_ack"}');
        else if (msg.type === "ping") ws.send('{"type":"pong"}');
        else if (msg.type === "subscribe") {
          const sessionId = msg.payload?.variables?.s ?? "";
          const sub = { socket: ws, raw, head: Buffer.from(`{"id":${JSON.stringify(msg.id)},"type":"next","payload":`) };
          let list = bySession.get(sessionId);
          if (!list) bySession.set(sessionId, (list = []));
          list.push(sub);
          ws.send(Buffer.concat([sub.head, Buffer.from('{"data":{"tail":{"events":[],"cursor":0,"live":true}}}}')]), { binary: false });
          ws.once("close", () => list.splice(list.indexOf(sub), 1));
        }
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
