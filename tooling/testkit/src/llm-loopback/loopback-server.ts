import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttp2Server } from "node:http2";
import type { AddressInfo, Socket } from "node:net";

export interface RecordedRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingMessage["headers"];
  body: unknown;
}

export type LoopbackHandler = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

export interface LoopbackServer {
  url: string;
  requests: RecordedRequest[];
  /** Requests whose stream or connection closed before the server ended the response. */
  readonly clientAborts: number;
  /** Resolves once the client has closed `count` unfinished requests in total. */
  waitForClientAborts(count?: number): Promise<void>;
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** TCP connections open now (accepted and not yet closed by either side). */
  readonly openConnections: number;
  close(): Promise<void>;
}

export interface LoopbackOptions {
  /** Cleartext HTTP/2, as the AWS SDK's Bedrock client speaks. */
  http2?: boolean;
  /**
   * HTTP/1: how long the server keeps an idle connection, announced to the client as
   * `Keep-Alive: timeout=<seconds>` (Node's default: 5 s). 0: never closes one and announces
   * nothing, so the client's own idle timeout decides.
   */
  keepAliveTimeoutMs?: number;
}

/** A real HTTP server on 127.0.0.1 with a random port; the handler plays the vendor. */
export async function startLoopbackServer(
  handler: LoopbackHandler,
  { http2 = false, keepAliveTimeoutMs }: LoopbackOptions = {},
): Promise<LoopbackServer> {
  const requests: RecordedRequest[] = [];
  let clientAborts = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    res.on("close", () => {
      if (res.writableEnded) return;
      clientAborts++;
      for (const waiter of waiters.filter((candidate) => candidate.count <= clientAborts)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the raw text.
    }
    const recorded = { method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers, body };
    requests.push(recorded);
    try {
      await handler(recorded, res);
    } catch (error) {
      if (!res.headersSent) res.writeHead(599).end(String(error));
    }
  };
  const sessions = new Set<{ destroy(): void }>();
  const server = http2
    ? createHttp2Server((req, res) =>
        onRequest(req as unknown as IncomingMessage, res as unknown as ServerResponse),
      )
    : createServer(onRequest);
  if (http2) {
    (server as ReturnType<typeof createHttp2Server>).on("session", (session) => {
      sessions.add(session);
      session.on("close", () => sessions.delete(session));
    });
  }
  if (keepAliveTimeoutMs !== undefined && "keepAliveTimeout" in server) {
    server.keepAliveTimeout = keepAliveTimeoutMs;
  }
  let connections = 0;
  let openConnections = 0;
  server.on("connection", (socket: Socket) => {
    connections++;
    openConnections++;
    socket.on("close", () => openConnections--);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get clientAborts() {
      return clientAborts;
    },
    waitForClientAborts(count = 1) {
      if (clientAborts >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    get connections() {
      return connections;
    },
    get openConnections() {
      return openConnections;
    },
    close() {
      if ("closeAllConnections" in server) server.closeAllConnections();
      for (const session of sessions) session.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  response.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}

export function startEventStream(response: ServerResponse, contentType = "text/event-stream") {
  response.writeHead(200, {
    "content-type": contentType,
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  response.flushHeaders();
}
