import type { ServerResponse } from "node:http";
import type { LoopbackHandler, RecordedRequest } from "./loopback-server.ts";
import type { WireFormat } from "./wire-formats.ts";

interface OpenAIMessage {
  role: string;
  content?: unknown;
}

const textOf = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
      ? content.map((part: { text?: string }) => part.text ?? "").join("")
      : "";

let callNumber = 0;

/**
 * A model that does what the user's message says, on the OpenAI wire: `call <tool> <json args>`
 * makes it ask for that tool; once the tool answered, it replies `tool said: <the tool's text>`;
 * anything else gets "ok". Lets a test drive any tool through the real agent loop.
 */
export function instructed(wire: WireFormat): LoopbackHandler {
  return (request: RecordedRequest, response: ServerResponse) => {
    const messages = (request.body as { messages?: OpenAIMessage[] } | undefined)?.messages ?? [];
    const last = messages.at(-1);
    if (last?.role === "tool") {
      const said = textOf(last.content);
      return wire.reply(request, response, {
        parts: [`tool said: ${said}`],
        inputTokens: 5,
        outputTokens: 5,
      });
    }
    const match = /^call (\S+) (.*)$/s.exec(textOf(last?.content).trim());
    if (!match) return wire.reply(request, response, { parts: ["ok"], inputTokens: 1, outputTokens: 1 });
    return wire.reply(request, response, {
      parts: [],
      toolCall: { id: `call_${++callNumber}`, name: match[1] ?? "", args: JSON.parse(match[2] ?? "{}") },
      inputTokens: 5,
      outputTokens: 5,
    });
  };
}
