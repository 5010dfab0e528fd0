import { readFile } from "node:fs/promises";
import { McpServerError } from "./errors.js";

/**
 * Reads the agent's system prompt from a UTF-8 file at start-up (`SYSTEM_PROMPT_FILE`): long
 * prompts are easier to keep in a file than in one environment variable. A missing, unreadable
 * or blank file stops the start with CONFIG_INVALID naming the path; the text is never logged.
 */
export async function loadSystemPromptFile(
  path: string,
  { signal }: { signal?: AbortSignal } = {},
): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, { encoding: "utf8", ...(signal ? { signal } : {}) });
  } catch (cause) {
    throw new McpServerError("CONFIG_INVALID", `system prompt file ${path} cannot be read`, { cause });
  }
  const prompt = text.trim();
  if (prompt === "") throw new McpServerError("CONFIG_INVALID", `system prompt file ${path} is empty`);
  return prompt;
}
