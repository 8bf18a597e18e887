import { useState, type FormEvent } from "react";
import type { ChatStatus, UIMessage } from "ai";

/** A chat UI written for the AI SDK's useChat: it knows nothing about starcite. */
export function ExistingChat({
  messages,
  sendMessage,
  status,
}: {
  messages: UIMessage[];
  sendMessage: (message: { text: string }) => Promise<void>;
  status: ChatStatus;
}) {
  const [input, setInput] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!input.trim() || status === "submitted" || status === "streaming") return;
    void sendMessage({ text: input });
    setInput("");
  };
  return (
    <div className="chat">
      <ol className="messages">
        {messages.map((m) => (
          <li key={m.id} className={m.role} data-role={m.role} data-message-id={m.id}>
            <b>{m.role === "user" ? "You" : "Assistant"}</b>
            <p data-testid="text">{m.parts.map((p) => (p.type === "text" ? p.text : "")).join("")}</p>
          </li>
        ))}
      </ol>
      <form onSubmit={submit}>
        <input data-testid="input" value={input} onChange={(e) => setInput(e.target.value)} placeholder="Ask about clause 4.2" />
        <button type="submit" data-testid="send" disabled={status === "submitted" || status === "streaming"}>
          Send
        </button>
        <span data-testid="status" data-status={status}>
          {status}
        </span>
      </form>
    </div>
  );
}
