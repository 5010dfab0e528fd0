// `@mcp-langgraph/authz/dev-server`: an in-memory server speaking OpenFGA's HTTP API, for development
// and tests. Its own entry, so services that only check permissions never load an HTTP server.
export { type FgaDevServer, type FgaDevServerOptions, startFgaDevServer } from "./server.ts";
