// A stand-in for `websocat URL` when the real one is not installed (Debian 12 does not package it): a raw
// WebSocket client with no subprotocol that prints each text message on its own line, like websocat does.
import WebSocket from "ws";

const url = process.argv.slice(2).find((a) => !a.startsWith("-"));
if (!url) {
  process.stderr.write("usage: websocat URL\n");
  process.exit(2);
}
const ws = new WebSocket(url);
ws.on("message", (data) => process.stdout.write(`${data.toString()}\n`));
ws.on("unexpected-response", (_req, res) => {
  process.stderr.write(`websocat: WebSocket handshake failed: HTTP ${res.statusCode}\n`);
  process.exit(1);
});
ws.on("error", (error) => {
  process.stderr.write(`websocat: ${error.message}\n`);
  process.exit(1);
});
ws.on("close", (code, reason) => {
  if (code !== 1000) process.stderr.write(`websocat: closed ${code} ${reason.toString()}\n`);
  process.exit(code === 1000 ? 0 : 1);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
