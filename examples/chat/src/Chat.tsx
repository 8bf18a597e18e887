import { useStarciteChat } from "@starcite/react";
import { Starcite } from "@starcite/sdk";
import { baseUrl } from "./config.ts";
import { ExistingChat } from "./ExistingChat.tsx";

// The landing page's snippet, as written.
const starcite = new Starcite({ baseUrl });
// server-render the route, mint a session token there, then pass it here
export function Chat({ token }: { token: string }) {
  const session = starcite.session({ token });
  // same surface as AI SDK useChat: messages, sendMessage, status
  const { messages, sendMessage, status } = useStarciteChat({
    session,
    id: session.id,
  });
  // keep your existing chat UI, just swap the hook
  return <ExistingChat messages={messages} sendMessage={sendMessage} status={status} />;
}

/** Elsewhere on the page: the same token gives the same session, so this button shares the chat above. */
export function StopButton({ token }: { token: string }) {
  const { status, stop } = useStarciteChat({ session: starcite.session({ token }) });
  const busy = status === "submitted" || status === "streaming";
  return (
    <button type="button" data-testid="stop" disabled={!busy} onClick={() => void stop()}>
      Stop
    </button>
  );
}
