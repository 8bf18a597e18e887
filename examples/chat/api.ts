import type http from "node:http";
import { isStarciteError, type Starcite } from "@starcite/sdk";
import type { ChatAgents } from "./agent.ts";

/**
 * The example's backend routes: `POST /api/sessions` creates a chat session, `GET /api/token?session=`
 * mints a browser token for it (principal user:web, read + append) and makes sure an agent serves it.
 * Returns false for any other path.
 */
export function chatApi(starcite: Starcite, agents: ChatAgents) {
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    try {
      if (req.method === "POST" && url.pathname === "/api/sessions") {
        const session = await starcite.createSession({ title: "Chat" });
        await agents.attach(session.id);
        reply(201, { sessionId: session.id });
        return true;
      }
      if (req.method === "GET" && url.pathname === "/api/token") {
        const sessionId = url.searchParams.get("session") ?? "";
        if (!(await starcite.getSession(sessionId))) {
          reply(404, { error: "session_not_found", message: `no session ${JSON.stringify(sessionId)}` });
          return true;
        }
        await agents.attach(sessionId);
        const { token } = await starcite.createSessionToken({ sessionId, principal: { type: "user", id: "web" } });
        reply(200, { token });
        return true;
      }
    } catch (error) {
      // The client's mistake (a malformed session id, ...) is the client's: 400 with the server's code.
      if (isStarciteError(error) && error.status !== undefined && error.status < 500) {
        reply(400, { error: error.code, message: error.message });
        return true;
      }
      reply(500, { error: "example_error", message: error instanceof Error ? error.message : String(error) });
      return true;
    }
    return false;
  };
}
