import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";

/** Logs `username` in through `POST /auth/login` and returns the access token. */
export async function login(baseUrl: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${baseUrl}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (response.status !== 200) throw new Error(`login ${username} failed: ${response.status}`);
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}

/** How the client speaks: the 2025-11-25 session (the default) or the sessionless 2026-07-28 protocol. */
export interface ConnectOptions {
  protocol?: "2025-11-25" | "2026-07-28";
  /** Sees every HTTP request and response the client makes (e.g. to check headers). */
  fetch?: typeof fetch;
}

/** The official MCP client connected to `baseUrl`/mcp over Streamable HTTP with a bearer token. */
export async function connect(
  baseUrl: string,
  token: string,
  options: ConnectOptions = {},
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client(
    { name: "mcp-http-test", version: "1.0.0" },
    // Pinned, not `auto`: a server that fell back to 2025-11-25 would fail the connect, not pass quietly.
    options.protocol === "2026-07-28" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : {},
  );
  const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  await client.connect(transport);
  return { client, transport };
}
