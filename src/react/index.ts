/**
 * @starcite/react: React bindings for starcite sessions.
 *
 *   const session = starcite.session({ token });
 *   const { messages, sendMessage, status, stop } = useStarciteChat({ session, id: session.id });
 */
export { useStarciteChat, type UseStarciteChatOptions, type UseStarciteChatHelpers } from "./use-starcite-chat.ts";
export { useStarciteSession, type UseStarciteSessionResult } from "./use-starcite-session.ts";
export type { SendMessageInput, ChatSnapshot } from "./chat-store.ts";
export { createStarciteChatTransport, toUIMessages, type StarciteChatTransportOptions } from "@starcite/sdk/ai";
