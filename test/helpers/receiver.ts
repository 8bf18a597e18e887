import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  body: string;
  headers: http.IncomingHttpHeaders;
  /** What the receiver did with it. */
  answered: "ok" | "fail" | "hang";
}

export type ReceiverMode = "ok" | "fail" | "hang";

/**
 * A webhook receiver on a real port: answers 200, 500, or never (hang), as told; can stop and start again on
 * the same port. Waiters are woken on every request, so tests wait on conditions, never on time.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  mode: ReceiverMode = "ok";
  #server: http.Server | null = null;
  #port = 0;
  #hanging = new Set<http.ServerResponse>();
  #watchers = new Set<() => void>();

  get url(): string {
    return `http://127.0.0.1:${this.#port}/hook`;
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const answered = this.mode;
        this.received.push({ body: Buffer.concat(chunks).toString("utf8"), headers: req.headers, answered });
        if (answered === "ok") res.writeHead(200).end("ok");
        else if (answered === "fail") res.writeHead(500).end("nope");
        else this.#hanging.add(res);
        for (const w of [...this.#watchers]) w();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#port, "127.0.0.1", () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Closes the port (connections refused until start() again), dropping hanging requests. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const res of this.#hanging) res.destroy();
    this.#hanging.clear();
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves once `predicate` holds over what was received (checked on every request). */
  until(predicate: () => boolean, timeoutMs = 30_000, label = "receiver condition"): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        this.#watchers.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#watchers.delete(check);
        reject(new Error(`${label}: timed out after ${timeoutMs} ms with ${this.received.length} requests`));
      }, timeoutMs);
      this.#watchers.add(check);
      check();
    });
  }
}
