/**
 * @starcite/sdk/ai: AI SDK chats on a session log. One `chat.user.message` event per user turn, one
 * `chat.assistant.chunk` event per UI message stream chunk, `chat.user.stop` to stop a turn; a pure
 * projection from events to UIMessages; the agent side (append a stream, watch for stops, serve turns)
 * and a ChatTransport for `useChat`. Needs `ai` (5 or newer) for its types only.
 */
export {
  CHAT_USER_MESSAGE,
  CHAT_ASSISTANT_CHUNK,
  CHAT_USER_STOP,
  isChatEventType,
  userMessageEvent,
  assistantChunkEvent,
  stopEvent,
  type ChatEventKind,
  type ChatPayload,
  type UserMessagePayload,
  type AssistantChunkPayload,
  type UserStopPayload,
} from "./envelopes.ts";
export { ChatProjection, projectChat, toUIMessages, type ActiveTurn, type ChatProjectionOptions } from "./projection.ts";
export {
  appendUIMessageStream,
  watchStop,
  type AppendUIMessageStreamOptions,
  type AppendUIMessageStreamResult,
  type StopWatch,
} from "./stream.ts";
export { serveChat, type ChatTurn, type ServeChatOptions } from "./serve.ts";
export { createStarciteChatTransport, type StarciteChatTransportOptions } from "./transport.ts";
export { parsePartialJson } from "./partial-json.ts";
