import { isAgentError } from "../src/index.ts";

/** The AgentError code a call rejects with; fails the test if it resolves or throws anything else. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isAgentError(error)) return error.code;
    throw error;
  }
  throw new Error("expected the call to fail");
}
