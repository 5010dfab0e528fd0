import {
  isJSONRPCRequest,
  type JSONRPCMessage,
  type RequestId,
  type Transport,
} from "@modelcontextprotocol/server";

export interface Drain {
  /** Requests received and not yet answered. */
  readonly inFlight: number;
  /**
   * Refuses new requests from now on and resolves once every request in flight has been answered
   * or `timeoutMs` has passed, whichever comes first (true: all answered).
   */
  drain(timeoutMs: number): Promise<boolean>;
}

/** JSON-RPC's implementation-defined server error range; the MCP SDK uses nothing else there for this. */
const SHUTTING_DOWN = -32000;

/**
 * Tracks the requests a connected transport carries, so shutdown can let them finish: an MCP
 * client (Claude Desktop, an IDE) that restarts the server sends SIGTERM and would otherwise lose
 * a turn it already paid for. Call after `server.connect(transport)`, which installs `onmessage`.
 */
export function trackRequests(transport: Transport): Drain {
  const pending = new Set<RequestId>();
  let draining = false;
  let settle: (() => void) | undefined;

  const receive = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if (isJSONRPCRequest(message)) {
      if (draining) {
        void transport.send({
          jsonrpc: "2.0",
          id: message.id,
          error: { code: SHUTTING_DOWN, message: "the server is shutting down; retry on a new connection" },
        });
        return;
      }
      pending.add(message.id);
    }
    receive?.(message, extra);
  };

  const send = transport.send.bind(transport);
  transport.send = async (message: JSONRPCMessage, options) => {
    try {
      await send(message, options);
    } finally {
      // A response (result or error) is the message with an id and no method; checked by shape,
      // not by schema, so a large result is not validated a second time on its way out.
      const id = "id" in message && !("method" in message) ? message.id : undefined;
      if (id !== undefined && pending.delete(id) && pending.size === 0) settle?.();
    }
  };

  return {
    get inFlight() {
      return pending.size;
    },
    drain(timeoutMs) {
      draining = true;
      if (pending.size === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        settle = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
    },
  };
}
