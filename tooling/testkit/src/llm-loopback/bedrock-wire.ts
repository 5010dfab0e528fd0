import type { ServerResponse } from "node:http";
// Kept out of wire-formats.ts, which other packages' tests import for the HTTP/1 vendors:
// they need not load the AWS event-stream codec.
import { EventStreamCodec } from "@smithy/core/event-streams";
import { sendJson } from "./loopback-server.ts";
import { nextResponse, type WireFormat } from "./wire-formats.ts";

const eventStream = new EventStreamCodec(
  (bytes) => Buffer.from(bytes).toString("utf8"),
  (text) => new Uint8Array(Buffer.from(text, "utf8")),
);

/** One frame of AWS's binary event-stream encoding, as ConverseStream sends it. */
function bedrockEvent(response: ServerResponse, type: string, payload: unknown) {
  const frame = eventStream.encode({
    headers: {
      ":event-type": { type: "string", value: type },
      ":content-type": { type: "string", value: "application/json" },
      ":message-type": { type: "string", value: "event" },
    },
    body: new Uint8Array(Buffer.from(JSON.stringify(payload), "utf8")),
  });
  response.write(Buffer.from(frame));
}

/** Bedrock Converse: JSON, and ConverseStream's binary event stream, over cleartext HTTP/2. */
export const bedrockWire: WireFormat = {
  provider: "bedrock",
  http2: true,
  streams: true,
  carriesRetryAfter: true,
  pooled: false,
  model: "anthropic.claude-3-haiku-20240307-v1:0",
  options: (baseUrl) => ({
    provider: "bedrock",
    model: "anthropic.claude-3-haiku-20240307-v1:0",
    baseUrl,
    bedrock: { region: "us-east-1", accessKeyId: "AKIDLOOPBACK", secretAccessKey: "loopback-secret" },
  }),
  keyOf: (request) => String(request.headers.authorization ?? ""),
  isStreaming: (request) => request.url.endsWith("/converse-stream"),
  reply(request, response, reply) {
    nextResponse();
    const stopReason = reply.toolCall ? "tool_use" : "end_turn";
    const usage = {
      inputTokens: reply.inputTokens,
      outputTokens: reply.outputTokens,
      totalTokens: reply.inputTokens + reply.outputTokens,
    };
    if (!this.isStreaming(request)) {
      const content: unknown[] = [];
      const text = reply.parts.join("");
      if (text) content.push({ text });
      if (reply.toolCall) {
        content.push({
          toolUse: { toolUseId: reply.toolCall.id, name: reply.toolCall.name, input: reply.toolCall.args },
        });
      }
      sendJson(response, 200, {
        output: { message: { role: "assistant", content } },
        stopReason,
        usage,
        metrics: { latencyMs: 1 },
      });
      return;
    }
    this.partialStream(response, reply.parts);
    if (reply.parts.length > 0) bedrockEvent(response, "contentBlockStop", { contentBlockIndex: 0 });
    if (reply.toolCall) {
      const contentBlockIndex = reply.parts.length > 0 ? 1 : 0;
      const { id: toolUseId, name, args } = reply.toolCall;
      bedrockEvent(response, "contentBlockStart", {
        contentBlockIndex,
        start: { toolUse: { toolUseId, name } },
      });
      bedrockEvent(response, "contentBlockDelta", {
        contentBlockIndex,
        delta: { toolUse: { input: JSON.stringify(args) } },
      });
      bedrockEvent(response, "contentBlockStop", { contentBlockIndex });
    }
    bedrockEvent(response, "messageStop", { stopReason });
    bedrockEvent(response, "metadata", { usage, metrics: { latencyMs: 1 } });
    response.end();
  },
  partialStream(response, parts) {
    nextResponse();
    response.writeHead(200, { "content-type": "application/vnd.amazon.eventstream" });
    bedrockEvent(response, "messageStart", { role: "assistant" });
    for (const text of parts)
      bedrockEvent(response, "contentBlockDelta", { contentBlockIndex: 0, delta: { text } });
  },
  error(response, status, headers) {
    const type =
      status === 429
        ? "ThrottlingException"
        : status === 503
          ? "ServiceUnavailableException"
          : "InternalServerException";
    sendJson(
      response,
      status,
      { message: `loopback status ${status}` },
      { "x-amzn-errortype": type, ...headers },
    );
  },
};
