import { AsyncLocalStorage } from "node:async_hooks";

/** What every log line written while serving one request carries. */
export interface RequestLogContext {
  reqId: string;
}

/**
 * The request being served, for the logger's mixin: lines the packages write during a request
 * (authorizer, chat model, session store, MCP tool handlers) carry its id without being handed a
 * per-request logger.
 */
export const requestLogContext = new AsyncLocalStorage<RequestLogContext>();
