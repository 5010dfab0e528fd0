import type { RecordedRequest } from "./loopback-server.ts";

/** One message of an OpenAI chat-completions request, as the client sent it. */
export interface OpenAIRequestMessage {
  role: string;
  content: unknown;
  tool_calls?: { id: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

/** The parts of a recorded OpenAI-wire chat request that tests look at: its messages and offered tools. */
export function openAIChatRequest(request: RecordedRequest | undefined): {
  messages: OpenAIRequestMessage[];
  tools: string[];
  /** Text of the first message when it is a system message, else "". */
  system: string;
} {
  const body = (request?.body ?? {}) as {
    messages?: OpenAIRequestMessage[];
    tools?: { function?: { name?: string } }[];
  };
  const messages = body.messages ?? [];
  const first = messages[0];
  return {
    messages,
    tools: (body.tools ?? []).map((tool) => tool.function?.name ?? ""),
    system: first?.role === "system" ? textOf(first.content) : "",
  };
}

/** A message's content as text (string content, or the text parts of a content array). */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part) => (part as { text?: string }).text ?? "").join("");
}

/**
 * Characters a recorded OpenAI-wire request sent the model: its message texts and tool-call names
 * and arguments, the input of the agent's four-characters-a-token context estimate.
 */
export function sentChars(request: RecordedRequest | undefined): number {
  return openAIChatRequest(request).messages.reduce(
    (sum, message) =>
      sum +
      textOf(message.content).length +
      (message.tool_calls ?? []).reduce(
        (calls, call) => calls + call.function.name.length + call.function.arguments.length,
        0,
      ),
    0,
  );
}
