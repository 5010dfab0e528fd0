import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type FaultMode = "pass" | "hang" | "fail";

/** One request passed through to the target and its answer, bodies parsed as JSON when there are any. */
export interface Exchange {
  method: string;
  path: string;
  query: URLSearchParams;
  requestBody: unknown;
  status: number;
  responseBody: unknown;
}

const parseJson = (bytes: Buffer): unknown =>
  bytes.length === 0 ? undefined : JSON.parse(bytes.toString("utf8"));

/**
 * A loopback HTTP proxy in front of the dev server that can stall or fail the
 * requests the tests pick, to exercise the adapter's fail-closed behaviour on
 * real sockets. Every request it passes through is recorded in `exchanges`.
 */
export async function startFaultProxy(target: string) {
  let mode: FaultMode = "pass";
  let requests = 0;
  const exchanges: Exchange[] = [];
  const server: Server = createServer(async (request, response) => {
    requests++;
    if (mode === "hang") return;
    if (mode === "fail") {
      response.writeHead(500, { "content-type": "application/json" });
      response.end(JSON.stringify({ code: "internal_error", message: "injected failure" }));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const upstream = await fetch(new URL(request.url ?? "/", target), {
      method: request.method ?? "GET",
      headers: { "content-type": "application/json", authorization: request.headers.authorization ?? "" },
      ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
    });
    const answer = Buffer.from(await upstream.arrayBuffer());
    const url = new URL(request.url ?? "/", target);
    exchanges.push({
      method: request.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      requestBody: parseJson(Buffer.concat(chunks)),
      status: upstream.status,
      responseBody: parseJson(answer),
    });
    response.writeHead(upstream.status, { "content-type": "application/json" });
    response.end(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setMode(next: FaultMode) {
      mode = next;
    },
    get requests() {
      return requests;
    },
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
