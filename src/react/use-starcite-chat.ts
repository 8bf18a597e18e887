import type { ChatStatus, UIMessage } from "ai";
import { useEffect, useRef, useSyncExternalStore } from "react";
import type { SessionStatus, StarciteSession } from "@starcite/sdk";
import { chatStore, type SendMessageInput } from "./chat-store.ts";

export interface UseStarciteChatOptions {
  /** A session from `starcite.session({ token })` (the same token gives the same session object). */
  session: StarciteSession;
  /** The chat's id (returned as `id`); usually `session.id`. */
  id?: string;
  /** Send failures, a stopped stream, and log events that are not valid chat events (code `invalid_chat_event`). */
  onError?: (error: Error) => void;
}

export interface UseStarciteChatHelpers {
  id: string;
  /** Every message of the session's chat, the same in every tab and device. */
  messages: UIMessage[];
  /** Appends a user message (`chat.user.message`); shown at once, confirmed by the log. */
  sendMessage: (message: SendMessageInput) => Promise<void>;
  /** `submitted` until the agent answers, `streaming` while it writes, then `ready` (or `error`). */
  status: ChatStatus;
  /** Appends `chat.user.stop` for the open turn: the agent stops, the partial answer stays, every tab turns `ready`. */
  stop: () => Promise<void>;
  error: Error | undefined;
  clearError: () => void;
  /** Changes this tab's view only; the log is not edited. */
  setMessages: (messages: UIMessage[] | ((messages: UIMessage[]) => UIMessage[])) => void;
  /** The session's connection: `live` once caught up, `reconnecting` while away. */
  connection: SessionStatus;
}

/**
 * The AI SDK `useChat` surface over a starcite session: messages, status and errors are a projection
 * of the session's log, so a reload, a second tab or another device shows the same chat, live.
 */
export function useStarciteChat({ session, id, onError }: UseStarciteChatOptions): UseStarciteChatHelpers {
  const store = chatStore(session);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  const onErrorRef = useRef(onError);
  onErrorRef.current = onError;
  useEffect(
    () =>
      store.onError((error) => {
        if (onErrorRef.current) onErrorRef.current(error);
        else console.error(`starcite chat ${session.id}:`, error);
      }),
    [store, session.id],
  );
  return {
    id: id ?? session.id,
    messages: snapshot.messages,
    status: snapshot.status,
    error: snapshot.error,
    connection: snapshot.connection,
    sendMessage: store.sendMessage,
    stop: store.stop,
    clearError: store.clearError,
    setMessages: store.setMessages,
  };
}
