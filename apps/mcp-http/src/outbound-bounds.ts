import type { JSONRPCMessage, RequestId } from "@modelcontextprotocol/server";

export const DEFAULT_MAX_ERROR_MESSAGE_CHARS = 1024;
export const DEFAULT_MAX_PENDING_SERVER_REQUESTS = 16;

/**
 * A JSON-RPC error answer whose message is at most `maxChars` characters. The SDK echoes
 * request input in error messages ("Tool <name> not found" with a ~900 KB name); every
 * answer is kept in the session's event store, so an unbounded echo is per-user memory an
 * attacker controls. Other messages pass through untouched (same object, no copy).
 */
export function boundErrorMessage(message: JSONRPCMessage, maxChars: number): JSONRPCMessage {
  if (!("error" in message)) return message;
  const text = message.error.message;
  if (typeof text !== "string" || text.length <= maxChars) return message;
  const truncated = `${text.slice(0, maxChars)}… [${text.length - maxChars} more characters truncated]`;
  return { ...message, error: { ...message.error, message: truncated } };
}

/**
 * The server-to-client requests (sampling, elicitation, roots) of one session still waiting
 * for the client's answer, bounded: the SDK keeps each one's handler and parameters until the
 * answer, a cancellation or its timeout, so a client that never answers would otherwise let
 * them pile up. Beyond `max`, sending another fails (the SDK rejects that request).
 */
export class PendingServerRequests {
  readonly #max: number;
  readonly #ids = new Set<RequestId>();

  constructor(max: number) {
    if (!Number.isSafeInteger(max) || max < 1)
      throw new RangeError("max pending server requests must be ≥ 1");
    this.#max = max;
  }

  get size(): number {
    return this.#ids.size;
  }

  /** Records a request about to be sent; throws when the session already has `max` pending. */
  add(id: RequestId): void {
    if (this.#ids.size >= this.#max) {
      throw new PendingRequestLimitError(this.#max);
    }
    this.#ids.add(id);
  }

  /** Whether `id` is still waiting for the client's answer. */
  has(id: RequestId): boolean {
    return this.#ids.has(id);
  }

  /** The client answered (result or error), or the server cancelled it. */
  settle(id: RequestId): void {
    this.#ids.delete(id);
  }

  clear(): void {
    this.#ids.clear();
  }
}

export class PendingRequestLimitError extends Error {
  override name = "PendingRequestLimitError";
  readonly code = "MCP_PENDING_REQUEST_LIMIT";

  constructor(readonly limit: number) {
    super(`this session already has ${limit} requests to the client awaiting an answer; retry later`);
  }
}
