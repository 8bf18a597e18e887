import type http from "node:http";
import type { AppContext } from "../app/context.ts";
import type { ErrorCode } from "../db/errors.ts";
import type { RestDeps } from "./deps.ts";

export type Method = "GET" | "POST" | "PATCH";

export interface RestCall {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  /** Path parameters, decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The services plus who is calling. */
  ctx: AppContext;
  deps: RestDeps;
  /** The JSON body (undefined when empty), read under the size limit. */
  body(): Promise<unknown>;
}

export interface Reply {
  status: number;
  body: unknown;
}

export interface Route {
  /** Also the OpenAPI operationId. */
  id: string;
  method: Method;
  /** OpenAPI path template, e.g. /v1/sessions/{id}. */
  path: string;
  /** Statuses of success (the SSE tail: 200; as a WebSocket: 101). */
  success: readonly number[];
  /** Error codes the operation itself may answer with; commonErrors(route) adds those every route shares. */
  errors: readonly ErrorCode[];
  /** Needs a credential (every route but the OpenAPI document). */
  auth: boolean;
  /** Also accepts the credential as `?access_token=` (the tails: browsers cannot set headers there). */
  credentialInQuery?: boolean;
  /** Reads a JSON request body. */
  body: boolean;
  /** A reply to send as JSON, or nothing when the handler answered itself (the SSE tail). */
  handle(call: RestCall): Promise<Reply | void>;
}

/** Codes any route of its kind may answer with, besides its own. */
export function commonErrors(route: Pick<Route, "auth" | "body">): ErrorCode[] {
  return [
    "shutting_down",
    "internal_error",
    ...(route.auth ? (["unauthorized", "token_expired", "database_unavailable"] as const) : []),
    ...(route.body ? (["bad_request", "payload_too_large"] as const) : []),
  ];
}

export const declaredErrors = (route: Route): Set<ErrorCode> => new Set([...route.errors, ...commonErrors(route)]);

interface Compiled {
  route: Route;
  pattern: RegExp;
  names: string[];
}

export type Match =
  { kind: "route"; route: Route; params: Record<string, string> } | { kind: "method_not_allowed"; allow: Method[] } | { kind: "none" };

export class Router {
  readonly #compiled: Compiled[];

  constructor(readonly routes: readonly Route[]) {
    this.#compiled = routes.map((route) => {
      const names: string[] = [];
      // Escape regex characters, then turn each {name} into a capture of one path segment.
      const source = route.path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, (_m, name: string) => {
        names.push(name);
        return "([^/]+)";
      });
      return { route, pattern: new RegExp(`^${source}$`), names };
    });
  }

  /** Throws URIError for a malformed percent-encoding in a path parameter. */
  match(method: string, path: string): Match {
    const allow: Method[] = [];
    for (const { route, pattern, names } of this.#compiled) {
      const m = pattern.exec(path);
      if (!m) continue;
      if (route.method !== method) {
        allow.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1]!)));
      return { kind: "route", route, params };
    }
    return allow.length > 0 ? { kind: "method_not_allowed", allow } : { kind: "none" };
  }
}
