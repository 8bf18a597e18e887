/**
 * Two floors under the server's own costs, on this machine, with nothing of starcite in them:
 *   npm run bench:floors [-- --seconds 5]
 *
 * 1. socket: a writer process sends 300-byte messages round-robin over N loopback TCP connections at a steady
 *    rate to a reader in another process (10,000 connections at 10,000 messages/s is scenario 4b's fan-out,
 *    1,000 at 1,000/s a quieter one). Reported: CPU per message on each side. A profile's writeBuffer time is
 *    not this: it includes the moments the writer was preempted by the process its write woke.
 * 2. http: a Node HTTP server that answers every POST with a constant JSON body, in a child process, under the
 *    32 keep-alive closed-loop clients of scenario 2 (the bench's own HTTP client, the same append body).
 *    Reported: the server's and the client's CPU per request, i.e. what any Node HTTP API costs here before it
 *    does anything.
 */
import { fork } from "node:child_process";
import http from "node:http";
import net from "node:net";
import { parseArgs } from "node:util";
import { keepAliveAgent, request } from "./lib/http.ts";

type Role = "socket-reader" | "http-server";
type FromChild = { ready: true; port?: number } | { cpuMs: number };
type ToChild = { cpu: true } | { stop: true };

const cpuMs = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/** The child side: a socket reader for `port` with `connections` connections, or a constant-answer HTTP server. */
function child(role: Role): void {
  const send = (m: FromChild) => process.send!(m);
  process.on("message", (m: ToChild) => {
    if ("cpu" in m) send({ cpuMs: cpuMs() });
    else process.exit(0);
  });
  if (role === "http-server") {
    const body = JSON.stringify({ data: { append: { seq: 1, lastSeq: 1, deduped: false } } });
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body));
    });
    server.listen(0, "127.0.0.1", () => send({ ready: true, port: (server.address() as net.AddressInfo).port }));
    return;
  }
  const [port, connections] = [Number(process.argv[3]), Number(process.argv[4])];
  let open = 0;
  for (let i = 0; i < connections; i++) {
    const socket = net.connect(port, "127.0.0.1");
    socket.setNoDelay(true);
    socket.on("data", () => {});
    socket.once("connect", () => ++open === connections && send({ ready: true }));
  }
}

function startChild(args: string[]): {
  ask: (m: ToChild) => Promise<FromChild>;
  stop: () => Promise<void>;
  ready: Promise<FromChild>;
} {
  const proc = fork(new URL(import.meta.url).pathname, args, { execArgv: ["--import", "tsx"] });
  const next = () => new Promise<FromChild>((resolve) => proc.once("message", resolve));
  return {
    ready: next(),
    ask: (m) => {
      const reply = next();
      proc.send(m);
      return reply;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        proc.once("exit", () => resolve());
        proc.send({ stop: true } satisfies ToChild);
      }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function socketFloor(connections: number, rate: number, seconds: number): Promise<string> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    sockets.push(s);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const reader = startChild(["socket-reader", String((server.address() as net.AddressInfo).port), String(connections)]);
  await reader.ready;
  const message = Buffer.alloc(300, 0x78);
  const r0 = (await reader.ask({ cpu: true })) as { cpuMs: number };
  const w0 = cpuMs();
  const t0 = performance.now();
  let sent = 0;
  let at = 0;
  // Open loop at `rate`: every millisecond, whatever is due.
  while (performance.now() - t0 < seconds * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    for (; sent < due; sent++) sockets[at++ % sockets.length]!.write(message);
    await sleep(1);
  }
  const writer = cpuMs() - w0;
  const r1 = (await reader.ask({ cpu: true })) as { cpuMs: number };
  await reader.stop();
  for (const s of sockets) s.destroy();
  server.close();
  const per = (ms: number) => `${((ms * 1000) / sent).toFixed(1)} µs`;
  return `socket: ${connections} connections, ${rate}/s: writer ${per(writer)} and reader ${per(r1.cpuMs - r0.cpuMs)} of CPU per message (${sent} messages)`;
}

async function httpFloor(seconds: number): Promise<string> {
  const server = startChild(["http-server"]);
  const { port } = (await server.ready) as { port: number };
  const agent = keepAliveAgent(32);
  const url = `http://127.0.0.1:${port}/graphql`;
  const body = JSON.stringify({
    query: "mutation Append($s: ID!, $e: AppendInput!) { append(sessionId: $s, event: $e) { seq lastSeq deduped } }",
    variables: { s: "floor", e: { type: "content", payload: { i: 1, pad: "x".repeat(240) } } },
  });
  let stop = false;
  let done = 0;
  const client = async () => {
    while (!stop) {
      await request(agent, "POST", url, body, { "content-type": "application/json" });
      done++;
    }
  };
  const clients = Array.from({ length: 32 }, client);
  await sleep(1000);
  const s0 = (await server.ask({ cpu: true })) as { cpuMs: number };
  const c0 = cpuMs();
  const n0 = done;
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const s1 = (await server.ask({ cpu: true })) as { cpuMs: number };
  const clientMs = cpuMs() - c0;
  const requests = done - n0;
  const wall = performance.now() - t0;
  stop = true;
  await Promise.all(clients);
  agent.destroy();
  await server.stop();
  const per = (ms: number) => `${((ms * 1000) / requests).toFixed(0)} µs`;
  return `http: 32 keep-alive clients, constant answer: ${((requests / wall) * 1000).toFixed(0)} requests/s; server ${per(s1.cpuMs - s0.cpuMs)}, client ${per(clientMs)} of CPU per request`;
}

if (process.argv[2] === "socket-reader" || process.argv[2] === "http-server") child(process.argv[2]);
else {
  const { values } = parseArgs({ options: { seconds: { type: "string", default: "5" } } });
  const seconds = Number(values.seconds);
  console.log(await socketFloor(10_000, 10_000, seconds));
  console.log(await socketFloor(1_000, 1_000, seconds));
  console.log(await httpFloor(seconds));
  process.exit(0);
}
