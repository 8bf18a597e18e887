import { randomUUID } from "node:crypto";
import { WebSocket } from "ws";

/*
 * graphql-ws writes every message with JSON.stringify, per socket. A tail batch that many subscribers share is
 * serialised once instead: its payload travels as an EncodedResult, whose toJSON leaves a token in graphql-ws's
 * message text, and FrameSocket.send puts the payload's JSON in the token's place. graphql-ws stringifies a
 * message and hands it to the socket in one synchronous step, so the JSON waiting in `pending` is always the one
 * of the message being sent.
 */
const TOKEN = `starcite:frame:${randomUUID()}`;
/** How graphql-ws's text of `{id, type: "next", payload}` ends when payload is an EncodedResult. */
const TOKEN_TAIL = `${JSON.stringify(TOKEN)}}`;
let pending: string | null = null;

/** A graphql-ws `next` payload already serialised (the JSON graphql-ws would write for it). */
export class EncodedResult {
  constructor(readonly json: string) {}

  toJSON(): string {
    pending = this.json;
    return TOKEN;
  }
}

/** The WebSocket class of the graphql-ws server: writes EncodedResults' JSON in place of their token. */
export class FrameSocket extends WebSocket {
  override send(data: unknown, ...rest: unknown[]): void {
    if (pending !== null) {
      const payload = pending;
      pending = null;
      if (typeof data === "string" && data.endsWith(TOKEN_TAIL)) data = data.slice(0, data.length - TOKEN_TAIL.length) + payload + "}";
    }
    (super.send as (data: unknown, ...rest: unknown[]) => void)(data, ...rest);
  }
}

/** The payload graphql-ws writes for an execution result (errors last, as GraphQLError#toJSON). */
export function graphqlWsPayload(result: { errors?: readonly { toJSON(): unknown }[] } & Record<string, unknown>): Record<string, unknown> {
  const { errors, ...rest } = result;
  return { ...rest, ...(errors ? { errors: errors.map((e) => e.toJSON()) } : {}) };
}
