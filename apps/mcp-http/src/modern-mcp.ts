import type { Principal } from "@mcp-langgraph/auth-provider";
import type { Logger } from "@mcp-langgraph/core";
import { type ConversationListens, isMcpServerError } from "@mcp-langgraph/mcp-server";
import {
  type AuthInfo,
  createMcpHandler,
  isLegacyRequest,
  type McpServer,
  ProtocolErrorCode,
} from "@modelcontextprotocol/server";

/** Open listen streams per process by default: the SDK's own default, each an idle SSE response. */
export const DEFAULT_MAX_LISTEN_STREAMS = 1_024;

export interface ModernMcpEndpointOptions {
  /** One server per request, from the same composition the 2025-11-25 sessions use. */
  createServer: () => McpServer;
  /** `subscriptions/listen` for conversations: each stream hears only what its caller may view (ADR 0187). */
  listens: ConversationListens;
  /** Listen streams this process holds open at once; one more is refused in-band (MCP_MAX_LISTEN_STREAMS). */
  maxListenStreams: number;
  logger: Logger;
}

/**
 * The sessionless 2026-07-28 protocol on `/mcp` (ADR 0170): each request carries its own protocol
 * version and client capabilities, is served by a fresh server and leaves nothing behind, so any
 * instance answers any request. The route authenticates first and hands over the principal.
 */
export class ModernMcpEndpoint {
  readonly #handler;
  readonly #listens: ConversationListens;
  readonly #inFlight = new Set<Promise<unknown>>();
  #draining = false;

  constructor({ createServer, listens, maxListenStreams, logger }: ModernMcpEndpointOptions) {
    this.#listens = listens;
    // `reject`: 2025-era traffic never reaches this handler (the route sends it to the sessions),
    // and if it did, it would be refused rather than served without a session.
    this.#handler = createMcpHandler(() => createServer(), {
      legacy: "reject",
      // The SDK reports refused requests here too (bad envelope, unsupported version): client
      // errors, answered on the wire; the message names the rule, never request data.
      onerror: (error) => logger.debug({ err: error.message }, "2026-07-28 request refused or failed"),
      bus: listens.bus,
      maxSubscriptions: maxListenStreams,
    });
  }

  /**
   * Whether a POST without a session id belongs to the 2026-07-28 protocol (it declares that
   * revision in its `_meta` envelope or `MCP-Protocol-Version` header). The SDK's own
   * classification, so the route and the handler never disagree.
   */
  static async claims(request: Request, parsedBody: unknown): Promise<boolean> {
    return !(await isLegacyRequest(request, parsedBody));
  }

  get draining(): boolean {
    return this.#draining;
  }

  async handle(request: Request, parsedBody: unknown, authInfo: AuthInfo): Promise<Response> {
    const served = this.#serve(request, parsedBody, authInfo);
    this.#inFlight.add(served);
    try {
      return await served;
    } finally {
      this.#inFlight.delete(served);
    }
  }

  #serve(request: Request, parsedBody: unknown, authInfo: AuthInfo): Promise<Response> {
    const fetch = () => this.#handler.fetch(request, { parsedBody, authInfo });
    const message = parsedBody as { id?: string | number; method?: unknown; params?: unknown } | undefined;
    if (message?.method !== "subscriptions/listen" || message.id === undefined) return fetch();
    // The route authenticated the request: its principal is always there.
    const principal = authInfo.extra?.principal as Principal;
    return this.#listens
      .authorize(principal, message.params, request.signal, fetch)
      .catch((error: unknown) => {
        if (!isMcpServerError(error)) throw error;
        // Refused before any stream opens, in-band like the SDK's own listen refusals.
        const code =
          error.code === "AUTHZ_UNAVAILABLE"
            ? ProtocolErrorCode.InternalError
            : ProtocolErrorCode.InvalidParams;
        return Response.json({ jsonrpc: "2.0", id: message.id, error: { code, message: error.message } });
      });
  }

  /** Lets the requests in flight be answered (new ones are refused by the route) until `signal` aborts. */
  async drain(signal: AbortSignal): Promise<void> {
    this.#draining = true;
    const aborted = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await Promise.race([Promise.allSettled([...this.#inFlight]), aborted]);
  }

  /** Aborts the exchanges still running and closes their servers. */
  close(): Promise<void> {
    return this.#handler.close();
  }
}
