import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type FaultMode = "pass" | "hang" | "fail";

/**
 * A loopback HTTP proxy in front of the dev server that can stall or fail the
 * requests the tests pick, to exercise the adapter's fail-closed behaviour on
 * real sockets.
 */
export async function startFaultProxy(target: string) {
  let mode: FaultMode = "pass";
  let requests = 0;
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
    response.writeHead(upstream.status, { "content-type": "application/json" });
    response.end(Buffer.from(await upstream.arrayBuffer()));
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
