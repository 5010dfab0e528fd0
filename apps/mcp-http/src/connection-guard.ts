import type { Server } from "node:http";

export interface ConnectionGuardOptions {
  /** A new connection that has sent no byte within this is closed. */
  idleConnectionTimeoutMs: number;
  /** Open connections; sockets past it are closed as soon as they are accepted. */
  maxConnections: number;
}

/**
 * Bounds what unauthenticated sockets can hold. Node's headers and request
 * timeouts only start with a connection's first byte, so a socket that never
 * sends anything would stay open forever (a tester held ~21,000 of them and
 * ran the process out of file descriptors). Each new socket gets a timer that
 * closes it unless it has sent something; after that Node's own timers apply.
 * Past `maxConnections`, Node closes new sockets at once (the cap is per
 * process: several processes behind a balancer each hold their own).
 */
export function guardConnections(server: Server, options: ConnectionGuardOptions): void {
  server.maxConnections = options.maxConnections;
  server.on("connection", (socket) => {
    const timer = setTimeout(() => {
      // bytesRead counts at the handle, so it sees bytes the HTTP parser consumed directly.
      if (socket.bytesRead === 0) socket.destroy();
    }, options.idleConnectionTimeoutMs);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
  });
}
