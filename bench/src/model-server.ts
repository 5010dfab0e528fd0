/**
 * Child entry: a loopback OpenAI-compatible chat completions server that answers every request
 * after a fixed delay (the idea of packages/llm-factory/bench/slow-provider.mjs), standing in for a
 * real model with a fixed 2 s latency. It counts the requests in flight, so the bench can report how
 * many calls actually reached the model at once ("max at model") instead of assuming it.
 *
 *   env MODEL_DELAY_MS (default 2000)
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { serveParent } from "./children.ts";

const delayMs = Number(process.env.MODEL_DELAY_MS ?? 2_000);
let served = 0;
// Completion ids stay unique across phases (served is reset per phase).
let completionId = 0;
let inFlight = 0;
let maxInFlight = 0;

function completion(id: number) {
  return {
    id: `chatcmpl-${id}`,
    object: "chat.completion",
    created: 1_700_000_000,
    model: "gpt-4o-mini",
    choices: [{ index: 0, message: { role: "assistant", content: "pong" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
  };
}

/** A streamed answer, for a client that asks for one (the same text in one chunk, then usage). */
function streamCompletion(response: ServerResponse, id: number) {
  const base = { id: `chatcmpl-${id}`, object: "chat.completion.chunk", created: 1_700_000_000 };
  const chunks = [
    { ...base, model: "gpt-4o-mini", choices: [{ index: 0, delta: { role: "assistant", content: "pong" } }] },
    { ...base, model: "gpt-4o-mini", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
    {
      ...base,
      model: "gpt-4o-mini",
      choices: [],
      usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
    },
  ];
  response.writeHead(200, { "content-type": "text/event-stream" });
  response.end(`${chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join("")}data: [DONE]\n\n`);
}

const server = createServer((request, response) => {
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  let counted = true;
  const done = () => {
    if (!counted) return;
    counted = false;
    inFlight--;
  };
  // A client that gives up (deadline, abort) leaves the count too.
  response.once("close", done);
  let body = "";
  request.setEncoding("utf8");
  request.on("data", (chunk: string) => {
    body += chunk;
  });
  request.on("end", () => {
    let stream = false;
    try {
      stream = (JSON.parse(body) as { stream?: boolean }).stream === true;
    } catch {
      // Not JSON: answer anyway, the bench only needs the delay.
    }
    setTimeout(() => {
      served++;
      const id = ++completionId;
      if (stream) {
        streamCompletion(response, id);
        return;
      }
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(completion(id)));
    }, delayMs);
  });
});
// Thousands of concurrent callers with keep-alive: no idle cut-off while a bench phase runs.
server.keepAliveTimeout = 60_000;
server.headersTimeout = 0;
server.requestTimeout = 0;

server.listen({ port: 0, host: "127.0.0.1", backlog: 8192 }, () => {
  const { port } = server.address() as AddressInfo;
  serveParent(
    {
      stats: () => ({ served, inFlight, maxInFlight }),
      /** Starts a new phase: the maximum is counted from what is in flight now. */
      reset: () => {
        maxInFlight = inFlight;
        served = 0;
        return null;
      },
    },
    { url: `http://127.0.0.1:${port}/v1` },
  );
});
process.once("SIGTERM", () => process.exit(0));
