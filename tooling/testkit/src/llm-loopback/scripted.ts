import type { ServerResponse } from "node:http";
import type { LoopbackHandler, RecordedRequest } from "./loopback-server.ts";
import type { Reply, WireFormat } from "./wire-formats.ts";

export type Action =
  | "ok"
  | "tool"
  | "hang"
  | "malformed"
  | "disconnect"
  /** Sends two stream chunks, then stalls with the connection open. */
  | "stall"
  | { status: number; headers?: Record<string, string> };

export const TEXT_REPLY: Reply = { parts: ["Hello", " from", " loopback"], inputTokens: 7, outputTokens: 3 };
export const TOOL_REPLY: Reply = {
  parts: [],
  toolCall: { id: "call_1", name: "calculator", args: { expression: "2+2" } },
  inputTokens: 9,
  outputTokens: 5,
};

/** Plays `actions` in order, one per chat request; the last action repeats. */
export function scripted(wire: WireFormat, actions: Action[]): LoopbackHandler {
  let index = 0;
  return (request: RecordedRequest, response: ServerResponse) =>
    play(wire, actions[Math.min(index++, actions.length - 1)] ?? "ok", request, response);
}

/**
 * Answers each chat request with what `choose` picks for it (`index` counts requests from 0): a
 * reply of its own (text parts, a tool call) or one of the scripted actions. For tests whose model
 * plays several roles, told apart by the request (e.g. its system prompt or offered tools).
 */
export function replyingWith(
  wire: WireFormat,
  choose: (request: RecordedRequest, index: number) => Reply | Action,
): LoopbackHandler {
  let index = 0;
  return (request: RecordedRequest, response: ServerResponse) => {
    const choice = choose(request, index++);
    if (typeof choice === "object" && "parts" in choice) return wire.reply(request, response, choice);
    return play(wire, choice, request, response);
  };
}

function play(wire: WireFormat, action: Action, request: RecordedRequest, response: ServerResponse) {
  switch (action) {
    case "ok":
      return wire.reply(request, response, TEXT_REPLY);
    case "tool":
      return wire.reply(request, response, TOOL_REPLY);
    case "hang":
      return;
    case "malformed":
      return malformed(wire, request, response);
    case "disconnect":
      wire.partialStream(response, ["Hel", "lo"]);
      setTimeout(() => response.socket?.destroy(), 20);
      return;
    case "stall":
      wire.partialStream(response, ["Hel", "lo"]);
      return;
    default:
      return wire.error(response, action.status, action.headers);
  }
}

function malformed(wire: WireFormat, request: RecordedRequest, response: ServerResponse) {
  if (wire.provider === "ollama") {
    response
      .writeHead(200, { "content-type": "application/x-ndjson" })
      .end('{"model": "llama3.2", "message": {\n');
    return;
  }
  if (wire.isStreaming(request)) {
    response.writeHead(200, { "content-type": "text/event-stream" }).end("data: {not json at all\n\n");
    return;
  }
  response.writeHead(200, { "content-type": "application/json" }).end('{"id": "truncated", "choices": [');
}
