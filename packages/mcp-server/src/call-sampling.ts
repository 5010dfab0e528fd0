import { AsyncLocalStorage } from "node:async_hooks";
import type { ServerContext } from "@modelcontextprotocol/server";

type RequestSampling = ServerContext["mcpReq"]["requestSampling"];

const current = new AsyncLocalStorage<RequestSampling>();

/**
 * Runs a tool call's turn so that the client's sampling model, built once per session, asks
 * through this call's context: a task run's context marks its task `input_required` while the
 * client's model answers and tags the request with the task (ADR 0191).
 */
export function runWithCallSampling<T>(ctx: ServerContext, operation: () => Promise<T>): Promise<T> {
  return current.run(ctx.mcpReq.requestSampling, operation);
}

/** The current call's sampling request, or undefined outside a call run by `runWithCallSampling`. */
export function callSampling(): RequestSampling | undefined {
  return current.getStore();
}
