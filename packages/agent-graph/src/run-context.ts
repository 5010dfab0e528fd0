import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";

/** The keys @langchain/core uses in its async-local store (global symbols, stable across copies). */
const LC_CHILD_KEY = Symbol.for("lc:child_config");
const CONTEXT_VARIABLES_KEY = Symbol.for("lc:context_variables");
/** The variables that switch LangSmith tracing on (as @langchain/core reads them). */
export const LANGSMITH_TRACING_VARIABLES = [
  "LANGSMITH_TRACING_V2",
  "LANGCHAIN_TRACING_V2",
  "LANGSMITH_TRACING",
  "LANGCHAIN_TRACING",
] as const;

type RunWithConfig = typeof AsyncLocalStorageProviderSingleton.runWithConfig;
interface CallbackHandlerLike {
  name?: string;
}

let installed: RunWithConfig | undefined;

/**
 * Makes LangChain's per-runnable context cheap when LangSmith tracing is off.
 *
 * Every graph node, router and channel write runs through `runWithConfig`, which builds a
 * LangSmith `RunTree` (uuid v7, environment look-ups, write replicas) only to carry the runnable
 * config in async-local storage — even with tracing disabled. Here that store is a plain object
 * with the same `extra` slot, so `getConfig()`, `interrupt()` and context variables behave the
 * same, and a run that does trace (a LangChain tracer among its callbacks) still goes through
 * the original.
 *
 * Process-wide by nature (LangChain's store is a global singleton), so it is opt-in: an app calls
 * it once at start-up, and only when LangSmith tracing is not switched on by environment
 * (`LANGSMITH_TRACING_VARIABLES`), since that adds a tracer the callbacks here would not show.
 */
export function useLightweightRunContext(): void {
  if (installed) return;
  const provider = AsyncLocalStorageProviderSingleton;
  const original = provider.runWithConfig.bind(provider) as RunWithConfig;
  installed = original;
  provider.runWithConfig = ((config, callback, avoidCreatingRootRunTree) => {
    if (hasTracer(config?.callbacks)) return original(config, callback, avoidCreatingRootRunTree);
    const storage = provider.getInstance();
    const previous = storage.getStore() as Record<symbol, unknown> | undefined;
    const store: Record<string | symbol, unknown> = { extra: { [LC_CHILD_KEY]: config } };
    if (previous?.[CONTEXT_VARIABLES_KEY] !== undefined) {
      store[CONTEXT_VARIABLES_KEY] = previous[CONTEXT_VARIABLES_KEY];
    }
    return storage.run(store, callback);
  }) as RunWithConfig;
}

/** Restores LangChain's own behaviour (tests). */
export function restoreRunContext(): void {
  if (!installed) return;
  AsyncLocalStorageProviderSingleton.runWithConfig = installed;
  installed = undefined;
}

/** Whether a LangChain tracer is among the callbacks, in either form LangChain accepts. */
function hasTracer(callbacks: unknown): boolean {
  if (!callbacks) return false;
  const handlers: CallbackHandlerLike[] = Array.isArray(callbacks)
    ? callbacks
    : ((callbacks as { handlers?: CallbackHandlerLike[] }).handlers ?? []);
  return handlers.some((handler) => handler?.name === "langchain_tracer");
}
