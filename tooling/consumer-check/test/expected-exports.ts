/**
 * A few named exports every published entry must have, per import specifier. A subpath a package
 * publishes that is missing here fails the check, so a new entry cannot ship unexamined.
 */
export const EXPECTED_EXPORTS: Record<string, string[]> = {
  "@mcp-langgraph/core": ["CoreError", "isCoreError", "withDeadline", "createBulkhead"],
  "@mcp-langgraph/session": ["createSessionStore", "isSessionError"],
  "@mcp-langgraph/secrets": ["createSecretsProvider", "secretsOptionsFromConfig", "isSecretsError"],
  "@mcp-langgraph/authz": ["createAuthorizer", "isAuthzError", "loadProjectModel", "EmbeddedAuthorizer"],
  "@mcp-langgraph/authz/dev-server": ["startFgaDevServer"],
  "@mcp-langgraph/auth-provider": ["createOidcProvider", "isAuthError"],
  "@mcp-langgraph/llm-factory": ["createChatModel", "isLlmError"],
  "@mcp-langgraph/agent-graph": ["createAgent", "isAgentError"],
  "@mcp-langgraph/mcp-server": ["createMcpServer", "createMcpServices", "isMcpServerError"],
  "@mcp-langgraph/mcp-server/conformance": ["registerConformanceFixtures"],
};

/** Exports that belong to a subpath only; the main entry must not carry them. */
export const NOT_IN_MAIN: Record<string, string[]> = {
  "@mcp-langgraph/authz": ["startFgaDevServer"],
  "@mcp-langgraph/mcp-server": ["registerConformanceFixtures"],
};
