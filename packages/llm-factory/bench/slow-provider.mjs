// A loopback OpenAI-compatible chat completions server that answers every request
// after a fixed delay. Runs in its own process so its event loop does not share
// time with the client under measurement. Prints its port on stdout.
import { createServer } from "node:http";

const delayMs = Number(process.argv[2] ?? 2000);
let served = 0;

const server = createServer((request, response) => {
  request.resume();
  request.on("end", () => {
    setTimeout(() => {
      served++;
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          id: `chatcmpl-${served}`,
          object: "chat.completion",
          created: 1_700_000_000,
          model: "gpt-4o-mini",
          choices: [{ index: 0, message: { role: "assistant", content: "pong" }, finish_reason: "stop" }],
          usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
        }),
      );
    }, delayMs);
  });
});
server.keepAliveTimeout = 30_000;
server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
