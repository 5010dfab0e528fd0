import type { Principal } from "@mcp-langgraph/auth-provider";
import type { Tracer } from "@mcp-langgraph/core";
import type {
  CallToolResult,
  InputRequiredResult,
  McpServer,
  ServerContext,
  ToolAnnotations,
} from "@modelcontextprotocol/server";
import type { z } from "zod";
import type { ToolAccess, ToolObject } from "./access.js";
import { type McpObserver, observe, outcomeOf } from "./observer.js";
import { type ToolFailureReporter, toolError } from "./results.js";
import { traceToolCall } from "./tracing.js";
import type { UsageLimits } from "./usage-limits.js";

/** What a tool's handler gets besides its arguments: who calls, and the request it runs in. */
export interface ToolCall {
  readonly principal: Principal;
  readonly signal: AbortSignal;
  readonly ctx: ServerContext;
  /**
   * Called with the error code the client sees when the call ends in an error result (after the
   * one error mapping), so a handler can close what it opened (a turn metric, a log line).
   */
  onFailure(listener: (code: string) => Promise<void> | void): void;
}

/** One MCP tool, declared once: name, schemas, the relation its caller needs, and its handler. */
export interface ToolDefinition<Input extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  inputSchema: Input;
  outputSchema?: z.ZodObject;
  annotations: ToolAnnotations;
  /** The relation the caller needs on `tool:<name>`, checked before the handler runs. */
  relation: "executor";
  /**
   * Runs only for an admitted, authorized caller; a throw becomes the mapped tool error. A
   * 2026-07-28 request may be answered with input_required (ADR 0185).
   */
  handler(args: z.infer<Input>, call: ToolCall): Promise<ToolOutcome>;
}

/** Type helper: infers the handler's argument type from the input schema. */
export const defineTool = <Input extends z.ZodObject>(
  definition: ToolDefinition<Input>,
): ToolDefinition<Input> => definition;

/**
 * Signals of calls already counted against their caller's tool-call limit: a task's run, counted
 * when the task was created (before anything exists, so a call over the limit creates no task).
 * Keyed by the run's own abort signal, which the SDK hands to the tool unchanged.
 */
const countedCalls = new WeakSet<AbortSignal>();

/** Marks the call running under `signal` as counted already, so the tool table does not count it again. */
export function markCallCounted(signal: AbortSignal): void {
  countedCalls.add(signal);
}

/** What every guarded call needs, whatever the tool. */
export interface ToolGuardOptions {
  access: ToolAccess;
  reportFailure: ToolFailureReporter;
  /** Per-user tool-call limit (MCP tools only); none when unset. */
  limits?: UsageLimits | undefined;
}

export interface GuardedCall<R extends ToolOutcome = CallToolResult> {
  /** The tool's name in messages and logs. */
  tool: string;
  /** The authorization object and its relation (the tool's own, or an upstream tool's). */
  object: ToolObject;
  principal: () => Principal;
  signal: AbortSignal;
  /** Counts against the caller's tool-call limit (calls the client makes; not the agent's own steps). */
  metered: boolean;
  handler(principal: Principal): Promise<R>;
  /** Told of the error code when the call ends in an error result. */
  failed?: (code: string) => Promise<void> | void;
}

/**
 * The one path every tool call takes, MCP tools and the agent's upstream tools alike:
 * principal → limit → authorization → handler → error mapping. Nothing runs past a refusal, and
 * every failure leaves as a tool error result with a safe message and a string code.
 */
export async function guardedCall<R extends ToolOutcome = CallToolResult>(
  guard: ToolGuardOptions,
  call: GuardedCall<NoInfer<R>>,
): Promise<R | CallToolResult> {
  let result: R | CallToolResult;
  try {
    const principal = call.principal();
    if (call.metered) await guard.limits?.admitToolCall(principal, call.signal);
    await guard.access.requireTool(principal, call.object, call.signal);
    result = await call.handler(principal);
  } catch (error) {
    result = toolError(error, call.tool, guard.reportFailure);
  }
  if ((result as CallToolResult).isError === true && call.failed) await call.failed(errorCodeOf(result));
  return result;
}

/** What a tool call answers: a result, or (2026-07-28) a request for the client's input. */
export type ToolOutcome = CallToolResult | InputRequiredResult;

/** The code of an error result (`structuredContent.error.code`), or "error" for a bare one. */
export function errorCodeOf(result: ToolOutcome): string {
  const code = ((result as CallToolResult).structuredContent as { error?: { code?: unknown } } | undefined)
    ?.error?.code;
  return typeof code === "string" ? code : "error";
}

export interface ToolTableOptions extends ToolGuardOptions {
  principalOf: (ctx: ServerContext) => Principal;
  /** Told of every tool call with its outcome (metrics); none when unset. */
  observer?: McpObserver | undefined;
  /** Traces every tool call as a `tools/call <tool>` span; none when unset. */
  tracer?: Tracer | undefined;
}

/** Registers each tool of the table on `server`, each wrapped by `guardedCall` exactly once. */
export function registerToolTable(
  server: McpServer,
  table: readonly ToolDefinition[],
  options: ToolTableOptions,
): void {
  for (const definition of table) {
    const { name, title, description, inputSchema, outputSchema, annotations, relation } = definition;
    server.registerTool(
      name,
      { title, description, inputSchema, ...(outputSchema ? { outputSchema } : {}), annotations },
      async (args: unknown, ctx: ServerContext) => {
        const { tracer } = options;
        return tracer ? traceToolCall(tracer, name, () => call(args, ctx)) : call(args, ctx);
      },
    );

    async function call(args: unknown, ctx: ServerContext): Promise<ToolOutcome> {
      const end = observe(options.observer?.toolCall, name);
      const listeners: ((code: string) => Promise<void> | void)[] = [];
      try {
        const result = await guardedCall<ToolOutcome>(options, {
          tool: name,
          object: { name, object: `tool:${name}`, relation },
          principal: () => options.principalOf(ctx),
          signal: ctx.mcpReq.signal,
          metered: !countedCalls.has(ctx.mcpReq.signal),
          handler: (principal) =>
            definition.handler(args as z.infer<typeof inputSchema>, {
              principal,
              signal: ctx.mcpReq.signal,
              ctx,
              onFailure: (listener) => listeners.push(listener),
            }),
          failed: async (code) => {
            for (const listener of listeners) await listener(code);
          },
        });
        end(outcomeOf(result));
        return result;
      } catch (error) {
        end("INTERNAL");
        throw error;
      }
    }
  }
}
