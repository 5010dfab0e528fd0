// A loopback OpenAI-compatible chat completions server that answers every request
// after a fixed delay. Runs in its own process so its event loop does not share
// time with the client under measurement. Prints its port on stdout; GET /stats
// answers how many connections have carried chat requests so far.
import { createServer } from "node:http";

const delayMs = Number(process.argv[2] ?? 2000);
let served = 0;
let chatConnections = 0;
const seenSockets = new WeakSet();

const server = createServer((request, response) => {
  if (request.method === "GET" && request.url === "/stats") {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ connections: chatConnections }));
    return;
  }
  if (!seenSockets.has(request.socket)) {
    seenSockets.add(request.socket);
    chatConnections++;
  }
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
// No idle timeout on this side, hence no `Keep-Alive: timeout=` header: each client keeps an idle
// connection as long as its own setting says (Node's fetch: 4 s), which the "after idle" rounds measure.
server.keepAliveTimeout = 0;
server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
