import net from "node:net";

/**
 * Fails fast, before Postgres starts or migrations run, when the HTTP port is taken: a one-line reason
 * instead of a listen error surfacing from deep inside the server. (The port can still be taken between
 * this check and the real listen; that error is reported the same way.)
 */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => reject(portError(error, host, port)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** The one-line form of a listen failure. */
export function portError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  if (error.code === "EADDRINUSE")
    return new Error(`port ${port} on ${host} is already in use: stop the process that holds it or set PORT`);
  if (error.code === "EACCES") return new Error(`not allowed to listen on port ${port} on ${host}: choose a port above 1023 with PORT`);
  if (error.code === "EADDRNOTAVAIL") return new Error(`cannot listen on ${host}: no such local address (HOST)`);
  return error;
}
