import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

/**
 * A loopback TCP proxy in front of Postgres that can cut every connection or
 * hang them (bytes stop flowing both ways), so the storage's fail-closed and
 * deadline behaviour is exercised on real sockets.
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  let mode: "pass" | "cut" | "hang" = "pass";
  const pairs = new Set<[Socket, Socket]>();
  const server: Server = createServer((client) => {
    if (mode === "cut") {
      client.destroy();
      return;
    }
    const upstream = tcpConnect(target);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.on("data", (chunk) => {
      if (mode === "pass") upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (mode === "pass") client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    /** Ends every open connection and refuses new ones. */
    cut() {
      mode = "cut";
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
    },
    /** Stops forwarding: queries and connection attempts wait forever. */
    hang() {
      mode = "hang";
    },
    restore() {
      mode = "pass";
    },
    async close() {
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
