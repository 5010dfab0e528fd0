import { connect as connectTcp, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { startTestServer } from "./helpers.ts";

/** Regressions from issue 13 item 8: idle sockets, a connection cap, slow bodies, and the connection after a 413. */

interface RawConnection {
  socket: Socket;
  /** Everything received so far. */
  received: () => string;
  /** Resolves when the connection closes: true when by a reset or error, false when cleanly. */
  closed: Promise<boolean>;
}

async function open(url: string): Promise<RawConnection> {
  const { port } = new URL(url);
  const socket = connectTcp({ host: "127.0.0.1", port: Number(port) });
  let received = "";
  socket.on("data", (chunk: Buffer) => {
    received += chunk.toString("latin1");
  });
  socket.on("error", () => {});
  const closed = new Promise<boolean>((resolve) => socket.once("close", (hadError) => resolve(hadError)));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return { socket, received: () => received, closed };
}

/** Waits until `predicate` holds or the connection closes; false if neither happens within `ms`. */
async function until(connection: RawConnection, predicate: () => boolean, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline || connection.socket.destroyed) return predicate();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

const responses = (text: string) => text.match(/HTTP\/1\.1 \d{3}/g) ?? [];
const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
const closedWithin = (connection: RawConnection, ms: number) =>
  Promise.race([
    connection.closed.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
  ]);

describe("connection limits", () => {
  it("closes a connection that sends nothing after HTTP_IDLE_CONNECTION_TIMEOUT_MS", async () => {
    const server = await startTestServer({ HTTP_IDLE_CONNECTION_TIMEOUT_MS: "300" });
    try {
      const idle = await open(server.url);
      const busy = await open(server.url);
      busy.socket.write(get("/health/live"));
      expect(await closedWithin(idle, 8_000)).toBe(true);
      expect(idle.received()).toBe("");
      // A connection that made a request is left to the keep-alive timeout, and still works.
      busy.socket.write(get("/health/live"));
      expect(await until(busy, () => responses(busy.received()).length === 2)).toBe(true);
      expect(responses(busy.received())).toEqual(["HTTP/1.1 200", "HTTP/1.1 200"]);
      busy.socket.destroy();
    } finally {
      await server.close();
    }
  });

  it("closes sockets past HTTP_MAX_CONNECTIONS at once while the open ones keep working", async () => {
    const server = await startTestServer({ HTTP_MAX_CONNECTIONS: "3" });
    try {
      const held = await Promise.all([open(server.url), open(server.url), open(server.url)]);
      for (const connection of held) connection.socket.write(get("/health/live"));
      for (const connection of held)
        expect(await until(connection, () => responses(connection.received()).length === 1)).toBe(true);

      const refused = await open(server.url);
      refused.socket.write(get("/health/live"));
      expect(await closedWithin(refused, 8_000)).toBe(true);
      expect(refused.received()).toBe("");

      for (const connection of held) connection.socket.write(get("/health/live"));
      for (const connection of held) {
        expect(await until(connection, () => responses(connection.received()).length === 2)).toBe(true);
        expect(responses(connection.received())).toEqual(["HTTP/1.1 200", "HTTP/1.1 200"]);
        connection.socket.destroy();
      }
      // Once they are gone, new connections are served again.
      await Promise.all(held.map((connection) => connection.closed));
      expect((await fetch(`${server.url}/health/live`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("cuts requests still arriving after HTTP_REQUEST_TIMEOUT_MS / HTTP_HEADERS_TIMEOUT_MS with 408", async () => {
    const server = await startTestServer({
      HTTP_KEEP_ALIVE_TIMEOUT_MS: "500",
      HTTP_HEADERS_TIMEOUT_MS: "600",
      HTTP_REQUEST_TIMEOUT_MS: "800",
    });
    try {
      const slow = await open(server.url);
      slow.socket.write(
        "POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
      );
      // And one whose headers never end is cut by the headers timeout.
      const headers = await open(server.url);
      headers.socket.write("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      expect(await closedWithin(slow, 8_000)).toBe(true);
      expect(responses(slow.received())).toEqual(["HTTP/1.1 408"]);
      expect(await closedWithin(headers, 8_000)).toBe(true);
      expect(responses(headers.received())).toEqual(["HTTP/1.1 408"]);
    } finally {
      await server.close();
    }
  });
});

describe("after a 413", () => {
  it("tells the client to reconnect (Connection: close) and the next request succeeds", async () => {
    const server = await startTestServer({ MAX_BODY_BYTES: "1000" });
    try {
      // A chunked body over the limit, and one that declares its length but arrives slowly: the
      // server refuses both before reading them to the end.
      const chunked = await open(server.url);
      chunked.socket.write(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
      );
      for (let i = 0; i < 4; i++) chunked.socket.write(`400\r\n${"x".repeat(1024)}\r\n`);
      const declared = await open(server.url);
      declared.socket.write(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n",
      );
      declared.socket.write("x".repeat(2_000));
      for (const connection of [chunked, declared]) {
        expect(await until(connection, () => connection.received().includes("\r\n\r\n"))).toBe(true);
        const head = connection.received().split("\r\n\r\n")[0] ?? "";
        expect(head).toMatch(/^HTTP\/1\.1 413/);
        // Either the server says it closes, or the connection must carry another request.
        expect(head.toLowerCase()).toContain("connection: close");
        expect(await closedWithin(connection, 8_000)).toBe(true);
        expect(await connection.closed).toBe(false); // a clean close (FIN), not a reset
      }

      // fetch (undici, as the MCP client uses) reuses kept-alive connections: after a refused body
      // its next request must not land on a connection the server is closing.
      for (let i = 0; i < 3; i++) {
        const refused = await fetch(`${server.url}/mcp`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          // Streamed (chunked) or declared and large: both are refused before they are read.
          body:
            i % 2 === 0
              ? new ReadableStream({
                  start(controller) {
                    controller.enqueue(new TextEncoder().encode("x".repeat(4_000)));
                    controller.close();
                  },
                })
              : "x".repeat(2_000_000),
          duplex: "half",
        } as RequestInit);
        expect(refused.status).toBe(413);
        await refused.arrayBuffer();
        expect((await fetch(`${server.url}/health/live`)).status).toBe(200);
      }
    } finally {
      await server.close();
    }
  });
});
