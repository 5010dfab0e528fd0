import type { AppConfig } from "./config.js";

/**
 * Why this configuration cannot run as several worker processes (WORKERS > 1), or nothing. The one
 * place that decides it (ADR 0166): each check names state that would otherwise live once per
 * process, so requests landing on different workers would see different users, keys or threads.
 * Several instances on several machines need the same; the shared MCP session state (issue 10,
 * item 1) lifts no check here but makes MCP sessions themselves shared.
 */
export function multiProcessProblems(
  config: Pick<AppConfig, "workers" | "sessions" | "auth" | "services">,
): string[] {
  if (config.workers <= 1) return [];
  const n = config.workers;
  const problems: string[] = [];
  if (config.sessions.backend !== "redis") {
    problems.push(
      `${n} workers need SESSION_BACKEND=redis: with memory, each worker would hold its own login sessions, MCP sessions, rate counters and locks`,
    );
  }
  if (config.services.checkpointer.backend === "memory") {
    problems.push(
      `${n} workers need CHECKPOINTER_BACKEND=postgres (or sqlite on one machine): with memory, each worker would hold its own conversations and their ownership`,
    );
  }
  const { auth } = config;
  if (auth.mode === "required" && auth.provider === "local") {
    if (!auth.signingKey) {
      problems.push(
        `${n} workers need LOCAL_SIGNING_KEY: each would otherwise sign tokens with a key of its own`,
      );
    }
    if (!auth.localUsers?.trim()) {
      problems.push(`${n} workers need LOCAL_USERS: each would otherwise create its own "dev" password`);
    }
  }
  return problems;
}
