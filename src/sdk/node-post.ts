/**
 * The SDK's POST on Node's own `node:http` / `node:https` instead of the global fetch. A request of the SDK is one
 * POST with a JSON body and a text answer; for that, undici's fetch (Node's global fetch) spends most of its CPU on
 * WHATWG streams and Request/Response objects: 32 producers sending appendBatch of 50 cost the SDK ~34 µs of CPU
 * per event through fetch and ~20-24 µs through this (bench/README.md, scenario 2d). Used only when no `fetch` is
 * given and the code runs on Node; the modules are imported at run time, so that browser bundles never see them.
 */

/** What the transport needs from an HTTP answer (a fetch Response has it too). */
export interface PostAnswer {
  ok: boolean;
  status: number;
  text(): Promise<string>;
}

export interface PostInit {
  method: "POST";
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

export type Post = (url: string, init: PostInit) => Promise<PostAnswer>;

// The little of node:http this uses, typed here: the SDK is built without Node's types (browsers are its first home).
/** Opaque here: made by Agent, handed back to request(). */
type NodeAgent = object;
interface NodeResponse {
  statusCode?: number;
  complete: boolean;
  setEncoding(encoding: "utf8"): void;
  on(event: "data", listener: (chunk: string) => void): void;
  on(event: "end", listener: () => void): void;
  on(event: "error", listener: (error: unknown) => void): void;
}
interface NodeRequest {
  on(event: "error", listener: (error: unknown) => void): void;
  end(body: string): void;
  destroy(): void;
}
interface NodeHttp {
  request(
    url: string,
    options: { method: string; headers: Record<string, string>; agent: NodeAgent },
    onResponse: (res: NodeResponse) => void,
  ): NodeRequest;
  Agent: new (options: { keepAlive: boolean; timeout: number }) => NodeAgent;
}

/** How long a kept-alive connection may sit idle (Node's agent closes only idle sockets on this timeout). */
const IDLE_MS = 2_000;

/** UTF-8 length of a string, without encoding it (Node's Buffer: this module only runs on Node). */
const byteLength = (s: string): number =>
  (globalThis as unknown as { Buffer: { byteLength(s: string, encoding: "utf8"): number } }).Buffer.byteLength(s, "utf8");

/** Whether this is Node (not a browser, Deno or Bun, which have their own fetch and no use for this). */
export const onNode = (): boolean => {
  const p = (globalThis as { process?: { versions?: { node?: string; bun?: string; deno?: string } } }).process;
  return typeof p?.versions?.node === "string" && !p.versions.bun && !p.versions.deno;
};

let modules: Promise<{ http: NodeHttp; https: NodeHttp }> | undefined;

function load(): Promise<{ http: NodeHttp; https: NodeHttp }> {
  // Names in variables and bundler hints: a browser build must not try to resolve Node's modules.
  const httpName = "node:http";
  const httpsName = "node:https";
  modules ??= Promise.all([
    import(/* @vite-ignore */ /* webpackIgnore: true */ httpName) as Promise<NodeHttp>,
    import(/* @vite-ignore */ /* webpackIgnore: true */ httpsName) as Promise<NodeHttp>,
  ]).then(([http, https]) => ({ http, https }));
  return modules;
}

/**
 * A Post over keep-alive connections (one agent per protocol for this poster; idle ones close after IDLE_MS).
 * Errors are the socket's own (`connect ECONNREFUSED ...`, the message fetch carries in its `cause`); an abort
 * rejects with the signal's reason.
 */
export function nodePost(): Post {
  let agents: { http: NodeAgent; https: NodeAgent } | undefined;
  return async (url, init) => {
    const { http, https } = await load();
    // An idle connection closes after IDLE_MS: a closed session or client leaves nothing open for long, and a
    // connection is never reused just as a server closes it (Node's servers keep idle ones 5 s).
    agents ??= {
      http: new http.Agent({ keepAlive: true, timeout: IDLE_MS }),
      https: new https.Agent({ keepAlive: true, timeout: IDLE_MS }),
    };
    const secure = url.startsWith("https:");
    const lib = secure ? https : http;
    return new Promise<PostAnswer>((resolve, reject) => {
      const { signal } = init;
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const req = lib.request(
        url,
        {
          method: init.method,
          headers: { ...init.headers, "content-length": String(byteLength(init.body)) },
          agent: secure ? agents!.https : agents!.http,
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk) => (text += chunk));
          res.on("error", fail);
          res.on("end", () => {
            signal.removeEventListener("abort", abort);
            if (!res.complete) return fail(new Error("the connection closed before the response ended"));
            const status = res.statusCode ?? 0;
            resolve({ ok: status >= 200 && status < 300, status, text: () => Promise.resolve(text) });
          });
        },
      );
      function fail(error: unknown) {
        signal.removeEventListener("abort", abort);
        reject(error);
      }
      function abort() {
        req.destroy();
        fail(signal.reason);
      }
      signal.addEventListener("abort", abort, { once: true });
      req.on("error", fail);
      req.end(init.body);
    });
  };
}
