import type {
  ListToolsRequest,
  ListToolsResult,
  McpServer,
  ServerContext,
} from "@modelcontextprotocol/server";

type ListHandler = (request: ListToolsRequest, ctx: ServerContext) => Promise<ListToolsResult>;

/**
 * Remembers this server's `tools/list` answer. The SDK converts every tool's
 * input and output schemas to JSON Schema on each call, which made listing
 * three tools cost about twice a ping; the answer only changes when a tool is
 * added, changed, enabled, disabled or removed, and the SDK routes each of
 * those through `McpServer.sendToolListChanged`, which forgets the answer.
 * Request validation still runs on every call (the SDK wraps this handler as
 * it wrapped its own). Call it after the tools are registered.
 */
export function cacheToolList(server: McpServer): void {
  // The SDK keeps its registered handler behind a protected accessor; the SDK version is pinned.
  const sdkList = (
    server.server as unknown as { _getRequestHandler(method: string): ListHandler | undefined }
  )._getRequestHandler("tools/list");
  if (sdkList === undefined) return;
  let listing: Promise<ListToolsResult> | undefined;
  const sendToolListChanged = server.sendToolListChanged.bind(server);
  server.sendToolListChanged = () => {
    listing = undefined;
    sendToolListChanged();
  };
  server.server.setRequestHandler("tools/list", async (request, ctx) => {
    const current = listing ?? sdkList(request, ctx);
    listing = current;
    current.catch(() => {
      if (listing === current) listing = undefined;
    });
    // A fresh top-level object per answer, so nothing downstream can alter the remembered one.
    return { ...(await current) };
  });
}
