import { type LoopbackServer, startLoopbackServer } from "./loopback-server.ts";
import { TEXT_REPLY } from "./scripted.ts";
import { openAIWire } from "./wire-formats.ts";

export interface HeldModel {
  llm: LoopbackServer;
  /** Lets every held request (and any later one) answer with `TEXT_REPLY`. */
  release: () => void;
  /** What an app needs in its environment to use this model. */
  env: Record<string, string>;
  /** The reply the model gives once released. */
  reply: string;
}

/**
 * An OpenAI-wire model that holds every reply until `release()`: a call is then provably in
 * flight (e.g. while a test sends SIGTERM to check that the app drains it).
 */
export async function startHeldModel(): Promise<HeldModel> {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const llm = await startLoopbackServer(async (request, response) => {
    await released;
    openAIWire.reply(request, response, TEXT_REPLY);
  });
  return {
    llm,
    release,
    reply: TEXT_REPLY.parts.join(""),
    env: {
      LLM_PROVIDER: "openai",
      MODEL_NAME: "gpt-4o-mini",
      OPENAI_API_KEY: "sk-held-model",
      OPENAI_BASE_URL: `${llm.url}/v1`,
    },
  };
}
