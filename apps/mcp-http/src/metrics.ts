import type { AuthzDecision } from "@mcp-langgraph/authz";
import {
  createProviderGuards,
  type ModelFallback,
  type ModelRetry,
  type ProviderGuards,
  type UsageReport,
} from "@mcp-langgraph/llm-factory";
import type { McpObserver } from "@mcp-langgraph/mcp-server";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { BackendCallObserver } from "./backend-timing.js";

/** Seconds; from a fast health probe to a long agent turn. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** A circuit breaker's state as a gauge value (the LLM providers' and the authorizer's). */
export const CIRCUIT_STATE = { closed: 0, "half-open": 1, open: 2 } as const;

export interface AppMetrics {
  /** This app instance's registry (never prom-client's global one: several apps may share a process). */
  registry: Registry;
  /** One finished HTTP request (from the request-log middleware, the one timing path). */
  request(info: { method: string; route: string; status: number; durationMs: number }): void;
  /** Tool calls and agent turns of the MCP composition. */
  observer: McpObserver;
  /** Model calls and tokens by provider and model (llm-factory's `onUsage`). */
  onUsage(report: UsageReport): void;
  /** A model retried after a failure (llm-factory's `onRetry`). */
  onModelRetry(retry: ModelRetry): void;
  /** A model failed and the call moved to the next in the chain (llm-factory's `onFallback`). */
  onModelFallback(fallback: ModelFallback): void;
  /** One authorization decision, and whether the decision cache gave it (authz's `onDecision`). */
  onAuthzDecision(decision: AuthzDecision): void;
  /** Provider guards whose circuit breakers are exported as a gauge (passed to llm-factory). */
  guards: ProviderGuards;
  /** Session-store calls by method and result, with their latency (see backend-timing.ts). */
  sessionStoreCall: BackendCallObserver;
  /** Authorization calls by method and result (allowed, denied, error), with their latency. */
  authzCall(method: string, result: "allowed" | "denied" | "error" | "ok", seconds: number): void;
  /** A conversation change the other instances may not have heard (the Redis change bus failed). */
  onChangeNotShared(): void;
  /** Adds a gauge read at scrape time (e.g. open MCP sessions). */
  gauge(name: string, help: string, read: () => number): void;
}

/**
 * The app's Prometheus metrics: process defaults (CPU, memory, GC, event-loop lag from
 * `monitorEventLoopDelay`), HTTP requests by route pattern, tool calls by outcome, agent turns,
 * model calls and LLM circuit-breaker state. Labels are route patterns, tool names, error codes,
 * provider and model names: bounded sets, never paths, ids or user names.
 */
export function createAppMetrics(): AppMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: "mcp_http_requests_total",
    help: "HTTP requests by method, route pattern and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const requestDuration = new Histogram({
    name: "mcp_http_request_duration_seconds",
    help: "Time to the response's headers, by method and route pattern",
    labelNames: ["method", "route"] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const toolCalls = new Counter({
    name: "mcp_tool_calls_total",
    help: "MCP tool calls by tool and outcome (ok, or the error code the client saw)",
    labelNames: ["tool", "outcome"] as const,
    registers: [registry],
  });
  const toolDuration = new Histogram({
    name: "mcp_tool_call_duration_seconds",
    help: "MCP tool call duration by tool",
    labelNames: ["tool"] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const turnDuration = new Histogram({
    name: "mcp_agent_turn_duration_seconds",
    help: "Agent turn duration from admission, by outcome",
    labelNames: ["outcome"] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const turnsInFlight = new Gauge({
    name: "mcp_agent_turns_in_flight",
    help: "Agent turns admitted and not yet finished",
    registers: [registry],
  });
  const modelCalls = new Counter({
    name: "mcp_llm_calls_total",
    help: "Successful model calls by provider and model",
    labelNames: ["provider", "model"] as const,
    registers: [registry],
  });
  const modelDuration = new Histogram({
    name: "mcp_llm_call_duration_seconds",
    help: "Successful model call duration (retries and fallbacks included) by provider and model",
    labelNames: ["provider", "model"] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const modelTokens = new Counter({
    name: "mcp_llm_tokens_total",
    help: "Model tokens by provider, model and direction (input, output)",
    labelNames: ["provider", "model", "direction"] as const,
    registers: [registry],
  });

  const modelRetries = new Counter({
    name: "mcp_llm_retries_total",
    help: "Model calls retried, by provider, model and the error code of the failed attempt",
    labelNames: ["provider", "model", "code"] as const,
    registers: [registry],
  });
  const modelFallbacks = new Counter({
    name: "mcp_llm_fallbacks_total",
    help: "Fallbacks to the next model, by the provider and model that failed and its error code",
    labelNames: ["provider", "model", "code"] as const,
    registers: [registry],
  });
  const authzDecisions = new Counter({
    name: "mcp_authz_decisions_total",
    help: "Authorization decisions by result (allowed, denied) and cache (hit, miss)",
    labelNames: ["result", "cache"] as const,
    registers: [registry],
  });
  const changesNotShared = new Counter({
    name: "mcp_conversation_changes_not_shared_total",
    help: "Finished turns whose change the other instances' subscribed sessions may not have heard (Redis failed)",
    registers: [registry],
  });

  const sessionDuration = new Histogram({
    name: "mcp_session_store_duration_seconds",
    help: "Session-store calls by method and result (ok, error)",
    labelNames: ["method", "result"] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const authzDuration = new Histogram({
    name: "mcp_authz_call_duration_seconds",
    help: "Authorization calls by method and result (allowed, denied, ok, error); cached answers included",
    labelNames: ["method", "result"] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });

  const baseGuards = createProviderGuards();
  const breakers = new Map<string, ReturnType<ProviderGuards["for"]>>();
  const guards: ProviderGuards = {
    for(key, settings) {
      const guard = baseGuards.for(key, settings);
      breakers.set(key, guard);
      return guard;
    },
  };
  new Gauge({
    name: "mcp_llm_circuit_state",
    help: "LLM provider circuit breaker: 0 closed, 1 half-open, 2 open",
    labelNames: ["provider", "endpoint"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, guard] of breakers) this.set(endpointLabels(key), CIRCUIT_STATE[guard.breaker.state]);
    },
  });

  return {
    registry,
    request({ method, route, status, durationMs }) {
      requests.inc({ method, route, status: String(status) });
      requestDuration.observe({ method, route }, durationMs / 1000);
    },
    observer: {
      toolCall(tool) {
        const end = toolDuration.startTimer({ tool });
        return (outcome) => {
          end();
          toolCalls.inc({ tool, outcome });
        };
      },
      agentTurn() {
        turnsInFlight.inc();
        const end = turnDuration.startTimer();
        return (outcome) => {
          turnsInFlight.dec();
          end({ outcome });
        };
      },
    },
    onUsage({ provider, model, inputTokens, outputTokens, latencyMs }) {
      modelCalls.inc({ provider, model });
      modelDuration.observe({ provider, model }, latencyMs / 1000);
      modelTokens.inc({ provider, model, direction: "input" }, inputTokens);
      modelTokens.inc({ provider, model, direction: "output" }, outputTokens);
    },
    onModelRetry({ provider, model, code }) {
      modelRetries.inc({ provider, model, code });
    },
    onModelFallback({ provider, model, code }) {
      modelFallbacks.inc({ provider, model, code });
    },
    onAuthzDecision({ allowed, cached }) {
      authzDecisions.inc({ result: allowed ? "allowed" : "denied", cache: cached ? "hit" : "miss" });
    },
    guards,
    onChangeNotShared() {
      changesNotShared.inc();
    },
    sessionStoreCall(method, failed, seconds) {
      sessionDuration.observe({ method, result: failed ? "error" : "ok" }, seconds);
    },
    authzCall(method, result, seconds) {
      authzDuration.observe({ method, result }, seconds);
    },
    gauge(name, help, read) {
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(read());
        },
      });
    },
  };
}

/**
 * llm-factory keys a guard by `<provider> <base URL or region>`. Only the URL's host is exported:
 * a base URL may carry credentials or a path with a key in it.
 */
function endpointLabels(key: string): { provider: string; endpoint: string } {
  const space = key.indexOf(" ");
  const provider = space < 0 ? key : key.slice(0, space);
  const rest = space < 0 ? "" : key.slice(space + 1);
  let endpoint = "";
  try {
    endpoint = new URL(rest).host;
  } catch {
    // A region or instance name, never a secret; anything URL-like that failed to parse is dropped.
    endpoint = /^[A-Za-z0-9.-]*$/.test(rest) ? rest : "";
  }
  return { provider, endpoint };
}
