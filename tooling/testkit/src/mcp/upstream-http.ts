import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/server";
// @ts-expect-error: a plain JavaScript fixture (so it runs under `node` over stdio), typed by use here.
import { createUpstreamServer } from "./upstream-server.mjs";

/** The fixture server as a program, for an upstreams file's stdio entry: `node <this path>`. */
export const UPSTREAM_STDIO_SCRIPT = fileURLToPath(new URL("./upstream-server.mjs", import.meta.url));

export interface UpstreamCall {
  tool: string;
  args: Record<string, unknown>;
}

export interface UpstreamHttpServer {
  url: string;
  /** Every tool call that reached the server. */
  calls: UpstreamCall[];
  /** The headers of every HTTP request it received. */
  headers: IncomingHttpHeaders[];
  close(): Promise<void>;
}

/**
 * The fixture server over Streamable HTTP (stateless, JSON responses) on a free loopback port, or
 * on `port` (to bring a stopped server back where its clients look for it).
 */
export async function startUpstreamHttpServer(port = 0): Promise<UpstreamHttpServer> {
  const calls: UpstreamCall[] = [];
  const headers: IncomingHttpHeaders[] = [];
  const http = createServer(async (request, response) => {
    headers.push(request.headers);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const server = createUpstreamServer((call: UpstreamCall) => calls.push(call));
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    const body = Buffer.concat(chunks);
    const answer = await transport.handleRequest(
      new Request(`http://127.0.0.1${request.url ?? "/"}`, {
        method: request.method ?? "GET",
        headers: Object.entries(request.headers).flatMap(([name, value]) =>
          value === undefined
            ? []
            : [[name, Array.isArray(value) ? value.join(", ") : value] as [string, string]],
        ),
        ...(body.length > 0 ? { body } : {}),
      }),
    );
    response.writeHead(answer.status, Object.fromEntries(answer.headers));
    response.end(Buffer.from(await answer.arrayBuffer()));
    await server.close();
  });
  await new Promise<void>((resolve) => http.listen(port, "127.0.0.1", resolve));
  const { port: bound } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/mcp`,
    calls,
    headers,
    close: () =>
      new Promise((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
