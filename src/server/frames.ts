import { randomUUID } from "node:crypto";
import type { FramedJson } from "./tail-encoder.ts";

/*
 * graphql-ws writes every message with JSON.stringify, per socket. A tail batch that many subscribers share is
 * serialised once instead: its payload travels as an EncodedResult, whose toJSON leaves a token in graphql-ws's
 * message text, and the socket adapter's send (withEncodedPayload) puts the payload's JSON in the token's place.
 * graphql-ws stringifies a message and hands it to the adapter in one synchronous step, so the JSON waiting in
 * `pending` is always the one of the message being sent.
 */
const TOKEN = `starcite:frame:${randomUUID()}`;
/** How graphql-ws's text of `{id, type: "next", payload}` ends when payload is an EncodedResult. */
const TOKEN_TAIL = `${JSON.stringify(TOKEN)}}`;
let pending: EncodedResult | null = null;

/** A graphql-ws `next` payload already serialised (the JSON graphql-ws would write for it), or a catch-up frame's parts. */
export class EncodedResult {
  #bytes: Buffer | null = null;

  constructor(readonly json: string | FramedJson) {}

  /** A string payload's UTF-8, encoded once for every socket it goes to. */
  get bytes(): Buffer {
    if (typeof this.json !== "string") throw new Error("a framed payload has no single byte form");
    return (this.#bytes ??= Buffer.from(this.json));
  }

  toJSON(): string {
    pending = this;
    return TOKEN;
  }
}

/** A message in three parts, to be written as one (the middle one a catch-up frame's bytes, never copied). */
export type MessageParts = readonly [string, Buffer, string];

const CLOSE_BRACE = 0x7d;

/**
 * What to write for a message graphql-ws just stringified: an EncodedResult's JSON in place of its token, as the
 * message's UTF-8 bytes (the shared payload's bytes copied after this socket's short head: no string of the whole
 * message made or encoded per subscriber); the message's parts when the payload carries a catch-up frame (no copy).
 */
export function withEncodedPayload(data: string): string | Buffer | MessageParts {
  if (pending === null) return data;
  const payload = pending;
  pending = null;
  if (!data.endsWith(TOKEN_TAIL)) return data;
  return messageWith(data.slice(0, data.length - TOKEN_TAIL.length), payload);
}

/**
 * A message's bytes: `head` (the message's text up to its payload), the payload, `}`. A string payload's shared
 * bytes are copied after the head, so no string of the whole message is made or encoded per subscriber; a catch-up
 * frame comes back as three parts, its bytes never copied.
 */
export function messageWith(head: string, payload: EncodedResult): Buffer | MessageParts {
  if (typeof payload.json !== "string") return [head + payload.json.before, payload.json.frame, payload.json.after + "}"];
  const bytes = payload.bytes;
  const headLength = Buffer.byteLength(head);
  const message = Buffer.allocUnsafe(headLength + bytes.length + 1);
  message.write(head, 0);
  bytes.copy(message, headLength);
  message[headLength + bytes.length] = CLOSE_BRACE;
  return message;
}

/** The length in bytes of a message from messageWith. */
export function messageBytes(message: Buffer | MessageParts): number {
  if (Buffer.isBuffer(message)) return message.length;
  return Buffer.byteLength(message[0]) + message[1].length + Buffer.byteLength(message[2]);
}

/** The text of a graphql-ws `next` message for subscription `id` up to its payload. */
export const nextHead = (id: string): string => `{"id":${JSON.stringify(id)},"type":"next","payload":`;

/** The payload graphql-ws writes for an execution result (errors last, as GraphQLError#toJSON). */
export function graphqlWsPayload(result: { errors?: readonly { toJSON(): unknown }[] } & Record<string, unknown>): Record<string, unknown> {
  const { errors, ...rest } = result;
  return { ...rest, ...(errors ? { errors: errors.map((e) => e.toJSON()) } : {}) };
}
