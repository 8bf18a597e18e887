import type http from "node:http";
import { StarciteError } from "../db/errors.ts";

/** After a 413, at most this much more of the body is read (and dropped) so the client sees the answer, not a reset. */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

function tooLarge(limit: number): StarciteError {
  return new StarciteError("payload_too_large", `the request body is over ${limit} bytes`, { limit });
}

/**
 * Keeps reading and discarding the rest of a refused body: closing a socket with unread data makes the
 * kernel send a reset, which can destroy the 413 before the client reads it. Past DRAIN_LIMIT_BYTES the
 * connection is cut.
 */
export function drain(req: http.IncomingMessage): void {
  let dropped = 0;
  req.removeAllListeners("data");
  req.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DRAIN_LIMIT_BYTES) req.socket.destroy();
  });
  req.resume();
}

/** The request body's bytes (a chunked one too), refused with payload_too_large past `limit`. */
export async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > limit) throw tooLarge(limit);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", () => reject(new StarciteError("bad_request", "the request body could not be read")));
  });
}

/** The request body parsed as JSON (whatever its content-type, as curl users often omit it); an empty body is undefined. */
export async function readJson(req: http.IncomingMessage, limit: number): Promise<unknown> {
  const text = (await readBody(req, limit)).toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new StarciteError("bad_request", "the request body is not valid JSON");
  }
}
