import { StarciteError, toStarciteError } from "./errors.ts";
import { nodePost, onNode, type Post, type PostAnswer } from "./node-post.ts";

export interface Endpoints {
  /** The server's base URL, without a trailing slash or /graphql. */
  base: string;
  /** GraphQL over HTTP. */
  http: string;
  /** GraphQL over WebSocket (graphql-ws). */
  ws: string;
}

/** Accepts `https://host`, `https://host/`, `https://host/graphql` (and ws:// forms) alike. */
export function resolveEndpoints(baseUrl: string): Endpoints {
  let url: URL;
  try {
    url = new URL(baseUrl.trim());
  } catch {
    throw new StarciteError("invalid_argument", `not a URL: ${JSON.stringify(baseUrl)}`);
  }
  if (url.protocol === "ws:") url.protocol = "http:";
  else if (url.protocol === "wss:") url.protocol = "https:";
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new StarciteError("invalid_argument", `the endpoint must be an http(s) URL, got ${JSON.stringify(baseUrl)}`);
  }
  url.search = "";
  url.hash = "";
  const path = url.pathname.replace(/\/+$/, "").replace(/\/graphql$/, "");
  const base = `${url.origin}${path}`;
  const http = `${base}/graphql`;
  return { base, http, ws: http.replace(/^http/, "ws") };
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface HttpOptions {
  url: string;
  fetch?: FetchLike;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  headers?: Record<string, string>;
}

interface GraphQLErrorShape {
  message?: unknown;
  extensions?: Record<string, unknown>;
}

/** A GraphQL error list (from HTTP or graphql-ws) as one StarciteError: the first error's code and message. */
export function fromGraphQLErrors(errors: readonly GraphQLErrorShape[], status?: number): StarciteError {
  const first = errors[0] ?? {};
  const ext = first.extensions ?? {};
  const { code, ...detail } = ext;
  const message = typeof first.message === "string" ? first.message : "request failed";
  return new StarciteError(
    typeof code === "string" ? code : "bad_request",
    message,
    errors.length > 1 ? { ...detail, errors } : detail,
    status !== undefined ? { status } : {},
  );
}

/**
 * GraphQL over HTTP: one POST per operation; errors become StarciteErrors with the server's code. The POST goes
 * through the `fetch` given, else on Node through node:http (node-post.ts: less CPU per request than Node's fetch),
 * else through the global fetch.
 */
export class GraphQLHttp {
  readonly url: string;
  readonly #post: Post;
  readonly #timeoutMs: number;
  readonly #headers: Record<string, string>;

  constructor(options: HttpOptions) {
    this.url = options.url;
    // A fetch is a Post: it takes the same POST and its Response has what the transport reads.
    this.#post = options.fetch ?? (onNode() ? nodePost() : (input, init) => globalThis.fetch(input, init));
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#headers = options.headers ?? {};
  }

  async request<T>(query: string, variables: Record<string, unknown>, credential?: string, signal?: AbortSignal): Promise<T> {
    // One controller per request, aborted by its own timer (cleared when the request ends; AbortSignal.timeout would
    // linger for the full timeout) or by `signal`, through a listener that lives as long as the request. Not
    // AbortSignal.any: on Node 20 it costs ~25 µs per call and every signal it makes stays attached to the
    // caller's long-lived signal until a garbage collection, which a busy outbox sending thousands of requests a
    // second pays for.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new StarciteError("timeout", `no response within ${this.#timeoutMs} ms`));
    }, this.#timeoutMs);
    const cancel = () => controller.abort(signal!.reason);
    if (signal?.aborted) cancel();
    else signal?.addEventListener("abort", cancel, { once: true });
    let response: PostAnswer;
    let text: string;
    try {
      response = await this.#post(this.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/graphql-response+json, application/json",
          ...this.#headers,
          ...(credential ? { authorization: `Bearer ${credential}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
        signal: controller.signal,
      });
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) throw new StarciteError("closed", "the request was cancelled", {}, { cause: error });
      if (timedOut) throw new StarciteError("timeout", `no response from ${this.url} within ${this.#timeoutMs} ms`, {}, { cause: error });
      const failure = toStarciteError(error);
      throw new StarciteError(failure.code, `cannot reach ${this.url}: ${failure.message}`, {}, { cause: error });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", cancel);
    }
    let body: { data?: Record<string, unknown> | null; errors?: GraphQLErrorShape[] } | undefined;
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = undefined;
    }
    if (body && Array.isArray(body.errors) && body.errors.length > 0) throw fromGraphQLErrors(body.errors, response.status);
    if (!response.ok || !body || !body.data) {
      const transient = response.status >= 500 || response.status === 429 || response.status === 408;
      throw new StarciteError(
        transient ? "unavailable" : "protocol_error",
        `unexpected response from ${this.url}: HTTP ${response.status}${text ? ` ${text.slice(0, 200)}` : ""}`,
        {},
        { status: response.status },
      );
    }
    return body.data as T;
  }
}
