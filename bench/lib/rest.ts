/** The REST API over keep-alive HTTP (the same agent and request helper as the GraphQL client). */
import type http from "node:http";
import { keepAliveAgent, request } from "./http.ts";

export class RestClient {
  readonly agent: http.Agent;

  constructor(
    readonly serverUrl: string,
    maxSockets = 64,
  ) {
    this.agent = keepAliveAgent(maxSockets);
  }

  async #post<T>(path: string, body: unknown, expected: number): Promise<T> {
    const res = await request(this.agent, "POST", `${this.serverUrl}${path}`, JSON.stringify(body), { "content-type": "application/json" });
    if (res.status !== expected) throw new Error(`REST ${path}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
    return JSON.parse(res.body) as T;
  }

  async createSession(id: string): Promise<void> {
    await this.#post("/v1/sessions", { id }, 201);
  }

  append(sessionId: string, payload: unknown, type = "content"): Promise<{ seq: number; last_seq: number }> {
    return this.#post(`/v1/sessions/${encodeURIComponent(sessionId)}/append`, { type, payload }, 201);
  }

  close(): void {
    this.agent.destroy();
  }
}
