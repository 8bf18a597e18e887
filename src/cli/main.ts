import { runCli } from "./run.ts";

/** The `starcite` command: bin/starcite.js runs the build of this file; tests and development run it through tsx. */
const handlers = new Set<() => void>();
let interrupted = 0;
const stop = () => {
  // Without a handler (or on a second Ctrl-C) exit at once, whatever is still running.
  if (++interrupted > 1 || handlers.size === 0) process.exit(130);
  for (const handler of [...handlers]) handler();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
// `starcite tail ... | head -1`: a closed pipe ends the command quietly.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
  interactive: Boolean(process.stderr.isTTY),
  onInterrupt: (handler) => {
    handlers.add(handler);
    return () => void handlers.delete(handler);
  },
});
// Flush, then exit: idle keep-alive connections must not hold the process open.
process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
