/** A small keep-alive HTTP client on node:http (less per-request overhead than fetch for latency runs). */
import http from "node:http";

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function keepAliveAgent(maxSockets = 64): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: "lifo" });
}

export function request(
  agent: http.Agent,
  method: string,
  url: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request(
      {
        agent,
        method,
        hostname: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        headers: body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Throws unless the status is 2xx. */
export async function expectOk(p: Promise<HttpResponse>, what: string): Promise<HttpResponse> {
  const res = await p;
  if (res.status < 200 || res.status >= 300) throw new Error(`${what}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
  return res;
}

/**
 * Reads a text/event-stream response, calling onEvent(event, data) per event. Returns a handle to stop it.
 * Resolves `opened` once the response headers arrived.
 */
export function openSse(
  url: string,
  onEvent: (event: string, data: string) => void,
  onEnd?: (error?: unknown) => void,
): { opened: Promise<void>; close(): void } {
  const u = new URL(url);
  let req: http.ClientRequest | undefined;
  let done = false;
  const opened = new Promise<void>((resolve, reject) => {
    req = http.get({ hostname: u.hostname, port: u.port, path: u.pathname + u.search, headers: { accept: "text/event-stream" } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`SSE ${url}: HTTP ${res.statusCode}`));
        res.resume();
        return;
      }
      resolve();
      res.setEncoding("utf8");
      let buf = "";
      let event = "message";
      let data: string[] = [];
      res.on("data", (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).replace(/\r$/, "");
          buf = buf.slice(nl + 1);
          if (line === "") {
            if (data.length) onEvent(event, data.join("\n"));
            event = "message";
            data = [];
          } else if (line.startsWith("data:")) data.push(line.slice(line[5] === " " ? 6 : 5));
          else if (line.startsWith("event:")) event = line.slice(6).trim();
        }
      });
      res.on("end", () => !done && onEnd?.());
      res.on("error", (e) => !done && onEnd?.(e));
    });
    req.on("error", (e) => {
      reject(e);
      if (!done) onEnd?.(e);
    });
  });
  return {
    opened,
    close() {
      done = true;
      req?.destroy();
    },
  };
}
