import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { Chat, StopButton } from "./Chat.tsx";

/** The session is in the URL (?session=ses_...), so a reload or a second tab opens the same chat. */
async function sessionToken(): Promise<string> {
  const url = new URL(location.href);
  let sessionId = url.searchParams.get("session");
  if (!sessionId) {
    const created = await fetch("/api/sessions", { method: "POST" });
    if (!created.ok) throw new Error(`creating a session: HTTP ${created.status}`);
    sessionId = ((await created.json()) as { sessionId: string }).sessionId;
    url.searchParams.set("session", sessionId);
    history.replaceState(null, "", url);
  }
  const res = await fetch(`/api/token?session=${encodeURIComponent(sessionId)}`);
  if (!res.ok) throw new Error(`minting a token: HTTP ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

// Once per page load: StrictMode runs effects twice, and two calls would create two sessions.
let tokenOnce: Promise<string> | undefined;

function App() {
  const [token, setToken] = useState<string>();
  const [problem, setProblem] = useState<string>();
  useEffect(() => {
    (tokenOnce ??= sessionToken()).then(setToken, (e: unknown) => setProblem(String(e)));
  }, []);
  if (problem) return <p role="alert">{problem}</p>;
  if (!token) return <p>Connecting…</p>;
  return (
    <main>
      <h1>starcite chat</h1>
      <p className="hint">Open this page in a second tab, reload it mid-answer, or press Stop: every tab shows the same chat.</p>
      <Chat token={token} />
      <StopButton token={token} />
    </main>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
