/**
 * GraphQL clients for the starcite server: mutations over keep-alive HTTP, the `tail` subscription over
 * graphql-ws (the real client library), and a lean graphql-transport-ws subscriber for fan-out runs where
 * the load generator must hold thousands of connections on the same two cores as the server.
 */
import type http from "node:http";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { keepAliveAgent, request } from "./http.ts";

export const APPEND_MUTATION = "mutation Append($s: ID!, $e: AppendInput!) { append(sessionId: $s, event: $e) { seq lastSeq deduped } }";
export const CREATE_SESSION_MUTATION = "mutation Create($id: ID) { createSession(id: $id) { id lastSeq } }";
export const TAIL_SUBSCRIPTION =
  "subscription Tail($s: ID!, $c: Int) { tail(sessionId: $s, cursor: $c) { events { seq sessionId type payload insertedAt } cursor live } }";

export interface TailEvent {
  seq: number;
  sessionId: string;
  type: string;
  payload: { i?: number } & Record<string, unknown>;
  insertedAt: string;
}

export interface TailBatch {
  events: TailEvent[];
  cursor: number;
  live: boolean;
}

export class GraphQLClient {
  readonly endpoint: string;
  readonly wsEndpoint: string;
  readonly agent: http.Agent;

  constructor(serverUrl: string, maxSockets = 64) {
    this.endpoint = `${serverUrl}/graphql`;
    this.wsEndpoint = this.endpoint.replace(/^http/, "ws");
    this.agent = keepAliveAgent(maxSockets);
  }

  async query<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await request(this.agent, "POST", this.endpoint, JSON.stringify({ query, variables }), {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
    });
    let parsed: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
    try {
      parsed = JSON.parse(res.body) as typeof parsed;
    } catch {
      throw new Error(`GraphQL: HTTP ${res.status} ${res.body.slice(0, 200)}`);
    }
    if (parsed.errors?.length) {
      const e = parsed.errors[0]!;
      throw new Error(`GraphQL: ${e.extensions?.code ?? ""} ${e.message}`);
    }
    if (!parsed.data) throw new Error(`GraphQL: HTTP ${res.status} without data`);
    return parsed.data;
  }

  async createSession(id: string): Promise<void> {
    await this.query(CREATE_SESSION_MUTATION, { id });
  }

  async append(sessionId: string, payload: unknown, type = "content"): Promise<{ seq: number; lastSeq: number }> {
    const data = await this.query<{ append: { seq: number; lastSeq: number } }>(APPEND_MUTATION, {
      s: sessionId,
      e: { type, payload },
    });
    return data.append;
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Mutations over one graphql-ws socket held open (what the SDK does while its tail is open): the real
 * graphql-ws client, one operation per call.
 */
export class GraphQLSocket {
  readonly client: Client;

  constructor(wsEndpoint: string) {
    this.client = createClient({ url: wsEndpoint, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, keepAlive: 0 });
  }

  query<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    return new Promise((resolve, reject) => {
      let data: T | undefined;
      this.client.subscribe<T>(
        { query, variables },
        {
          next: (r) => {
            if (r.errors?.length) reject(new Error(`GraphQL: ${String(r.errors[0]!.extensions?.code ?? "")} ${r.errors[0]!.message}`));
            else data = r.data as T;
          },
          error: (e) => reject(e instanceof Error ? e : new Error(`graphql-ws: ${JSON.stringify(e)}`)),
          complete: () => (data === undefined ? reject(new Error("no result")) : resolve(data)),
        },
      );
    });
  }

  async append(sessionId: string, payload: unknown, type = "content"): Promise<{ seq: number; lastSeq: number }> {
    return (await this.query<{ append: { seq: number; lastSeq: number } }>(APPEND_MUTATION, { s: sessionId, e: { type, payload } })).append;
  }

  close(): Promise<void> {
    return this.client.dispose() as Promise<void>;
  }
}

/** True when the server answers GraphQL at /graphql (the API may not be built yet). */
export async function hasGraphQL(serverUrl: string): Promise<boolean> {
  const agent = keepAliveAgent(1);
  try {
    const res = await request(agent, "POST", `${serverUrl}/graphql`, JSON.stringify({ query: "{ __typename }" }), {
      "content-type": "application/json",
    });
    return res.status === 200 && res.body.includes("__typename");
  } catch {
    return false;
  } finally {
    agent.destroy();
  }
}

/** One graphql-ws client (its own WebSocket) with one `tail` subscription. */
export function wsClient(wsEndpoint: string): Client {
  return createClient({
    url: wsEndpoint,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    keepAlive: 0,
  });
}

export interface Subscription {
  /** Resolves at the first batch with live=true. */
  live: Promise<void>;
  close(): void;
}

/** Subscribes to `tail` with graphql-ws's client; onBatch gets each TailBatch. */
export function tailWithGraphqlWs(
  client: Client,
  sessionId: string,
  cursor: number,
  onBatch: (batch: TailBatch) => void,
  onError?: (e: unknown) => void,
): Subscription {
  let markLive: () => void = () => {};
  let failLive: (e: unknown) => void = () => {};
  const live = new Promise<void>((resolve, reject) => ((markLive = resolve), (failLive = reject)));
  const unsubscribe = client.subscribe<{ tail: TailBatch }>(
    { query: TAIL_SUBSCRIPTION, variables: { s: sessionId, c: cursor } },
    {
      next: (result) => {
        if (result.errors?.length) {
          const e = new Error(`tail: ${result.errors[0]!.message}`);
          failLive(e);
          onError?.(e);
          return;
        }
        const batch = result.data?.tail;
        if (!batch) return;
        onBatch(batch);
        if (batch.live) markLive();
      },
      error: (e) => {
        failLive(e);
        onError?.(e);
      },
      complete: () => {},
    },
  );
  return { live, close: unsubscribe };
}

/**
 * A lean graphql-transport-ws subscriber: one WebSocket, one `tail` subscription, no client library.
 * onMessage gets the raw `next` message text, so a fan-out run can pull out just the numbers it needs.
 */
export function leanTail(
  wsEndpoint: string,
  sessionId: string,
  cursor: number,
  query: string,
  onNext: (raw: string) => void,
  onError?: (e: unknown) => void,
): Subscription & { opened: Promise<void> } {
  const ws = new WebSocket(wsEndpoint, "graphql-transport-ws", { perMessageDeflate: false });
  let markLive: () => void = () => {};
  let failLive: (e: unknown) => void = () => {};
  let isLive = false;
  const live = new Promise<void>((resolve, reject) => ((markLive = resolve), (failLive = reject)));
  live.catch(() => {});
  let closing = false;
  const opened = new Promise<void>((resolve, reject) => {
    ws.once("open", () => {
      ws.send('{"type":"connection_init","payload":{}}');
    });
    ws.on("message", (data: Buffer) => {
      const text = data.toString();
      if (text.startsWith('{"type":"next"') || text.includes('"type":"next"')) {
        if (!isLive && text.includes('"live":true')) {
          isLive = true;
          markLive();
        }
        onNext(text);
        return;
      }
      const msg = JSON.parse(text) as { type: string; payload?: unknown };
      if (msg.type === "connection_ack") {
        ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query, variables: { s: sessionId, c: cursor } } }));
        resolve();
      } else if (msg.type === "ping") ws.send('{"type":"pong"}');
      else if (msg.type === "error") {
        const e = new Error(`tail error: ${JSON.stringify(msg.payload)}`);
        failLive(e);
        onError?.(e);
      }
    });
    ws.once("error", (e) => {
      reject(e);
      failLive(e);
      if (!closing) onError?.(e);
    });
    ws.once("close", (code, reason) => {
      const e = new Error(`websocket closed ${code} ${reason.toString()}`);
      reject(e);
      failLive(e);
      if (!closing) onError?.(e);
    });
  });
  return {
    opened,
    live,
    close() {
      closing = true;
      ws.terminate();
    },
  };
}

/** Seqs and payload indexes in a raw `next` message, without a JSON parse of the whole batch. */
export function scanIndexes(raw: string, out: number[]): void {
  const re = /"i":(\d+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(raw)) !== null) out.push(Number(m[1]));
}
