import {
  type McpServer,
  ProtocolError,
  ProtocolErrorCode,
  type ServerContext,
} from "@modelcontextprotocol/server";

/** The protocol's own bound: a completion result carries at most 100 values. */
export const MAX_COMPLETION_VALUES = 100;

export type Completer = (value: string, ctx: ServerContext) => Promise<string[]> | string[];

/**
 * completion/complete for one session, with the request context handed to each completer (the
 * SDK's `completable` gets none, and conversation ids depend on who asks). Register completers by
 * prompt name or resource template, then `install` once every prompt and template is registered.
 */
export class CompletionRouter {
  readonly #completers = new Map<string, Completer>();

  forPrompt(prompt: string, argument: string, completer: Completer): void {
    this.#completers.set(`prompt\0${prompt}\0${argument}`, completer);
  }

  forResourceTemplate(uriTemplate: string, argument: string, completer: Completer): void {
    this.#completers.set(`resource\0${uriTemplate}\0${argument}`, completer);
  }

  install(server: McpServer): void {
    server.server.setRequestHandler("completion/complete", async (request, ctx) => {
      const { ref, argument } = request.params;
      const target =
        ref.type === "ref/prompt"
          ? `prompt\0${ref.name}`
          : ref.type === "ref/resource"
            ? `resource\0${ref.uri}`
            : undefined;
      if (!target)
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, "Unknown completion reference type.");
      const completer = this.#completers.get(`${target}\0${argument.name}`);
      // An argument without suggestions answers with none, as the SDK does.
      const values = completer ? await completer(argument.value, ctx) : [];
      return {
        completion: {
          values: values.slice(0, MAX_COMPLETION_VALUES),
          total: values.length,
          hasMore: values.length > MAX_COMPLETION_VALUES,
        },
      };
    });
  }
}
