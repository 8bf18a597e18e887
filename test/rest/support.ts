import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import WebSocket from "ws";
import type { RestEvent } from "@starcite/sdk/protocol";
import { createLogger, type Logger } from "../../src/shared/logger.ts";
import { ROOT } from "../helpers/node.ts";

/**
 * A directory to put first on PATH so that `websocat` runs: empty when the real websocat is installed,
 * else holding a stand-in (test/rest/websocat.mjs: a raw WebSocket client, no subprotocol, one line per
 * message), since Debian 12 does not package websocat. Remove it with fs.rmSync when done.
 */
export function websocatBin(): string {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "starcite-websocat-"));
  const real = spawnSync("sh", ["-c", "command -v websocat"], { encoding: "utf8" }).stdout.trim();
  if (!real) {
    fs.writeFileSync(
      path.join(bin, "websocat"),
      `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, "test/rest/websocat.mjs")}" "$@"\n`,
      { mode: 0o755 },
    );
  }
  return bin;
}

export interface RestResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** One REST call with fetch; `body` is sent as JSON unless it is already a string. */
export async function call<T = any>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<RestResponse<T>> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** A logger that keeps warnings, to assert that no route answered with an error code it does not declare. */
export function recordingLogger(): { logger: Logger; undeclared: () => unknown[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger("warn", (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  return { logger, undeclared: () => lines.filter((l) => l.msg === "undeclared REST error code") };
}

/** Resolves once `predicate` holds, re-checked whenever `subscribe`'s callback fires; rejects after timeoutMs. */
function waitFor(
  check: () => boolean,
  watchers: Set<() => void>,
  timeoutMs: number,
  describe: () => string,
  failed?: () => string | null,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const test = () => {
      if (check()) {
        watchers.delete(test);
        clearTimeout(timer);
        resolve();
        return;
      }
      const failure = failed?.();
      if (failure) {
        watchers.delete(test);
        clearTimeout(timer);
        reject(new Error(failure));
      }
    };
    const timer = setTimeout(() => {
      watchers.delete(test);
      reject(new Error(`timed out after ${timeoutMs} ms: ${describe()}`));
    }, timeoutMs);
    watchers.add(test);
    test();
  });
}

export type Frame = RestEvent | RestEvent[] | { control: "caught_up"; cursor: number };

/** A raw WebSocket client on the plain tail (no subprotocol), as websocat would be. */
export function wsTail(url: string, headers: Record<string, string> = {}, options: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(url, { headers, ...options });
  const frames: Frame[] = [];
  const events: RestEvent[] = [];
  const watchers = new Set<() => void>();
  const notify = () => watchers.forEach((w) => w());
  let closed: { code: number; reason: string } | null = null;
  let pings = 0;
  let opened = false;
  ws.on("open", () => {
    opened = true;
    notify();
  });
  ws.on("ping", () => {
    pings++;
    notify();
  });
  ws.on("message", (data, isBinary) => {
    const frame = JSON.parse(String(data)) as Frame;
    if (isBinary) throw new Error("binary frame");
    frames.push(frame);
    if (Array.isArray(frame)) events.push(...frame);
    else if (!("control" in frame)) events.push(frame);
    notify();
  });
  ws.on("close", (code, reason) => {
    closed = { code, reason: reason.toString() };
    notify();
  });
  ws.on("unexpected-response", (_req, res) => {
    closed = { code: -res.statusCode!, reason: `HTTP ${res.statusCode}` };
    notify();
  });
  ws.on("error", () => notify());
  return {
    ws,
    frames,
    events,
    get closed() {
      return closed as { code: number; reason: string } | null;
    },
    get pings() {
      return pings;
    },
    get opened() {
      return opened;
    },
    get caughtUp() {
      return frames.some((f) => !Array.isArray(f) && "control" in f);
    },
    close: () => ws.close(),
    /** Waits for a condition; fails early if the socket closes first (unless waiting for the close). */
    until(predicate: () => boolean, timeoutMs = 10_000, label = "ws tail"): Promise<void> {
      return waitFor(
        predicate,
        watchers,
        timeoutMs,
        () => `${label}: ${events.length} events, last ${events.at(-1)?.seq}, closed ${JSON.stringify(closed)}`,
        () => (closed && !predicate() ? `${label}: closed ${JSON.stringify(closed)} with ${events.length} events` : null),
      );
    },
    untilClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
      return waitFor(
        () => closed !== null,
        watchers,
        timeoutMs,
        () => "close",
      ).then(() => closed!);
    },
  };
}

export interface SseMessage {
  event: string;
  id: string | undefined;
  data: string;
}

/** A text/event-stream reader on node:http, exposing every event, comment and the end of the stream. */
export function sseTail(url: string, headers: Record<string, string> = {}) {
  const messages: SseMessage[] = [];
  const events: RestEvent[] = [];
  const comments: string[] = [];
  const watchers = new Set<() => void>();
  const notify = () => watchers.forEach((w) => w());
  let status = 0;
  let contentType = "";
  let ended = false;
  let errorBody = "";
  const req = http.get(url, { headers: { accept: "text/event-stream", ...headers } }, (res) => {
    status = res.statusCode ?? 0;
    contentType = String(res.headers["content-type"] ?? "");
    res.setEncoding("utf8");
    let buf = "";
    let current: SseMessage = { event: "message", id: undefined, data: "" };
    let hasData = false;
    res.on("data", (chunk: string) => {
      if (status !== 200) {
        errorBody += chunk;
        return;
      }
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line === "") {
          if (hasData) {
            messages.push(current);
            if (current.event === "message") {
              const parsed = JSON.parse(current.data) as RestEvent | RestEvent[];
              events.push(...(Array.isArray(parsed) ? parsed : [parsed]));
            }
          }
          current = { event: "message", id: undefined, data: "" };
          hasData = false;
        } else if (line.startsWith(":")) {
          comments.push(line.slice(1).trim());
        } else {
          const colon = line.indexOf(":");
          const field = line.slice(0, colon);
          const value = line.slice(colon + 1).replace(/^ /, "");
          if (field === "data") {
            current.data = hasData ? `${current.data}\n${value}` : value;
            hasData = true;
          } else if (field === "event") current.event = value;
          else if (field === "id") current.id = value;
        }
      }
      notify();
    });
    res.on("end", () => {
      ended = true;
      notify();
    });
    res.on("error", () => {
      ended = true;
      notify();
    });
    notify();
  });
  req.on("error", () => {
    ended = true;
    notify();
  });
  return {
    messages,
    events,
    comments,
    get status() {
      return status;
    },
    get contentType() {
      return contentType;
    },
    get ended() {
      return ended;
    },
    get errorBody() {
      return errorBody;
    },
    close: () => req.destroy(),
    until(predicate: () => boolean, timeoutMs = 10_000, label = "sse tail"): Promise<void> {
      return waitFor(
        predicate,
        watchers,
        timeoutMs,
        () => `${label}: status ${status}, ${events.length} events, ended ${ended}`,
        () => (ended && !predicate() ? `${label}: stream ended (status ${status}) with ${events.length} events ${errorBody}` : null),
      );
    },
  };
}
