/**
 * The chat example in one command (`npm run example:chat` at the repository root): an embedded
 * Postgres, the starcite server, an AI SDK agent that answers every chat session, and the React app
 * (Vite, with the workspaces' sources) with its two backend routes, on http://localhost:5173.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createServer as createVite } from "vite";
import { Starcite } from "@starcite/sdk";
import { createApiKey, createLogger, createPool, loadConfig, prepareDatabase, startServer } from "starcite";
import { ChatAgents, chatModel } from "./agent.ts";
import { chatApi } from "./api.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
// Its own database, ports and key, apart from `npm start`'s.
process.env.STARCITE_DATA_DIR ??= path.join(here, "../../.starcite/chat-example-pg");
process.env.STARCITE_PG_PORT ??= "54339";
process.env.PORT ??= "4010";
const appPort = Number(process.env.EXAMPLE_PORT ?? 5173);

const config = loadConfig();
const logger = createLogger(process.env.LOG_LEVEL ? config.logLevel : "warn");
const database = await prepareDatabase(config, logger);
const server = await startServer({
  config,
  databaseUrl: database.url,
  logger,
  auth: { mode: "required", tokenSecret: randomBytes(32).toString("base64url") },
});
const sql = createPool(database.url, { max: 1 });
const { secret } = await createApiKey(sql, {
  tenantId: "chat-example",
  name: `chat example ${new Date().toISOString()}`,
  scopes: ["session:create", "session:read", "session:append"],
});
await sql.end();

const starcite = new Starcite({ baseUrl: `http://127.0.0.1:${server.port}`, apiKey: secret });
const agents = new ChatAgents(starcite, chatModel());
const api = chatApi(starcite, agents);
const vite = await createVite({
  root: here,
  configFile: false,
  appType: "custom",
  logLevel: "warn",
  server: { middlewareMode: true },
  resolve: { conditions: ["@starcite/source"] },
});
const config_ = `<script>globalThis.STARCITE_URL = location.protocol + "//" + location.hostname + ":${server.port}";</script>`;

const app = http.createServer((req, res) => {
  void (async () => {
    if (await api(req, res)) return;
    if (req.url === "/" || req.url?.startsWith("/?")) {
      const html = await vite.transformIndexHtml(req.url, fs.readFileSync(path.join(here, "index.html"), "utf8"));
      res.writeHead(200, { "content-type": "text/html" }).end(html.replace("<!--starcite-config-->", config_));
      return;
    }
    vite.middlewares(req, res);
  })().catch((error: unknown) => {
    res.writeHead(500).end(String(error));
  });
});
await new Promise<void>((resolve) => app.listen(appPort, resolve));
console.log(
  `chat example: http://localhost:${appPort}  (starcite on :${server.port}, model: ${process.env.AI_GATEWAY_API_KEY ? "AI Gateway" : "mock"})`,
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      app.close();
      await vite.close();
      await agents.close();
      await server.close();
      await database.stop();
      process.exit(0);
    })();
  });
}
