import type { UIMessage, UIMessageChunk } from "ai";
import type { SessionAppendInput } from "../session.ts";
import type { JsonObject } from "../protocol.ts";

/**
 * The chat event envelopes, portable with the open-source Starcite React package: the event `type` and
 * the payload's `kind` are the same string.
 */
export const CHAT_USER_MESSAGE = "chat.user.message";
export const CHAT_ASSISTANT_CHUNK = "chat.assistant.chunk";
export const CHAT_USER_STOP = "chat.user.stop";

export type ChatEventKind = typeof CHAT_USER_MESSAGE | typeof CHAT_ASSISTANT_CHUNK | typeof CHAT_USER_STOP;

export interface UserMessagePayload {
  kind: typeof CHAT_USER_MESSAGE;
  /** role "user". */
  message: UIMessage;
}

export interface AssistantChunkPayload {
  kind: typeof CHAT_ASSISTANT_CHUNK;
  chunk: UIMessageChunk;
  /**
   * The assistant message the chunk belongs to. Optional (readers of the portable envelope ignore it):
   * without it a chunk belongs to the turn started last, with it two turns may interleave.
   */
  messageId?: string;
}

export interface UserStopPayload {
  kind: typeof CHAT_USER_STOP;
  /** The assistant message to stop; without it, whatever turn is open or about to start. */
  messageId?: string;
}

export type ChatPayload = UserMessagePayload | AssistantChunkPayload | UserStopPayload;

export const isChatEventType = (type: string): type is ChatEventKind =>
  type === CHAT_USER_MESSAGE || type === CHAT_ASSISTANT_CHUNK || type === CHAT_USER_STOP;

/**
 * A user turn. The idempotency key is derived from the message id, so sending the same message twice
 * (a double click, a retried request after a reload) appends it once.
 */
export function userMessageEvent(message: UIMessage): SessionAppendInput {
  const payload: UserMessagePayload = { kind: CHAT_USER_MESSAGE, message };
  return { type: CHAT_USER_MESSAGE, payload: payload as unknown as JsonObject, idempotencyKey: `${CHAT_USER_MESSAGE}:${message.id}` };
}

export function assistantChunkEvent(chunk: UIMessageChunk, messageId?: string): SessionAppendInput {
  const payload: AssistantChunkPayload = { kind: CHAT_ASSISTANT_CHUNK, chunk, ...(messageId !== undefined ? { messageId } : {}) };
  return { type: CHAT_ASSISTANT_CHUNK, payload: payload as unknown as JsonObject };
}

export function stopEvent(messageId?: string): SessionAppendInput {
  const payload: UserStopPayload = { kind: CHAT_USER_STOP, ...(messageId !== undefined ? { messageId } : {}) };
  return { type: CHAT_USER_STOP, payload: payload as unknown as JsonObject };
}
