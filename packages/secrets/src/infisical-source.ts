import { InfisicalSDK } from "@infisical/sdk";
import { raceDeadline } from "@mcp-langgraph/core";
import { SecretsError } from "./errors.js";

export interface InfisicalOptions {
  /** Base URL of the Infisical instance (e.g. https://app.infisical.com). */
  siteUrl: string;
  /** Universal-auth machine identity. */
  clientId: string;
  clientSecret: string;
  projectId: string;
  /** Environment slug, e.g. `prod`. */
  environment: string;
  /** Folder the secrets live in. */
  secretPath: string;
  /** Deadline of each call to Infisical (login, list). */
  timeoutMs: number;
}

export interface InfisicalSource {
  /** The current values of those of `names` the project holds (others are absent). */
  fetch(names: readonly string[], signal?: AbortSignal): Promise<Map<string, string>>;
}

/** Names and shape we read from the SDK's list call (the rest of each secret is not ours). */
interface ListedSecret {
  secretKey: string;
  secretValue: string;
}

/**
 * Reads secrets through the official SDK with universal auth: one login, then one list call per
 * fetch (all names at once). The SDK takes no AbortSignal, so every call is raced against our
 * deadline and the caller's signal; an abandoned call finishes (or times out) inside the SDK on
 * its own.
 */
export function createInfisicalSource(options: InfisicalOptions): InfisicalSource {
  const sdk = new InfisicalSDK({ siteUrl: options.siteUrl });

  const call = <T>(what: string, run: () => Promise<T>, signal: AbortSignal | undefined) =>
    raceDeadline(run(), {
      timeoutMs: options.timeoutMs,
      ...(signal ? { signal } : {}),
      onTimeout: (ms) =>
        new SecretsError("INFISICAL_UNAVAILABLE", `Infisical ${what} did not answer within ${ms} ms`),
    }).catch((error: unknown) => {
      if (error instanceof SecretsError || signal?.aborted) throw error;
      throw new SecretsError("INFISICAL_UNAVAILABLE", `Infisical ${what} failed (${describe(error)})`, {
        cause: error,
      });
    });

  let loggedIn = false;
  const login = async (signal: AbortSignal | undefined) => {
    await call(
      "login",
      () =>
        sdk.auth().universalAuth.login({ clientId: options.clientId, clientSecret: options.clientSecret }),
      signal,
    );
    loggedIn = true;
  };
  const list = (signal: AbortSignal | undefined) =>
    call(
      "secrets list",
      (): Promise<{ secrets: ListedSecret[] }> =>
        sdk.secrets().listSecrets({
          projectId: options.projectId,
          environment: options.environment,
          secretPath: options.secretPath,
          expandSecretReferences: true,
          viewSecretValue: true,
        }),
      signal,
    );

  return {
    async fetch(names, signal) {
      let listed: { secrets: ListedSecret[] };
      if (!loggedIn) {
        await login(signal);
        listed = await list(signal);
      } else {
        try {
          listed = await list(signal);
        } catch (error) {
          if (signal?.aborted) throw error;
          // The SDK keeps the access token but not its lifetime: a token that expired (or was
          // revoked) fails the list, so log in again once and retry.
          loggedIn = false;
          await login(signal);
          listed = await list(signal);
        }
      }
      const wanted = new Set(names);
      const found = new Map<string, string>();
      for (const secret of listed.secrets ?? []) {
        if (
          wanted.has(secret.secretKey) &&
          typeof secret.secretValue === "string" &&
          secret.secretValue !== ""
        ) {
          found.set(secret.secretKey, secret.secretValue);
        }
      }
      return found;
    },
  };
}

/**
 * A failure's HTTP status or network cause, never the response text (it could echo what was sent).
 * The SDK puts the status in its error message as `[StatusCode=NNN]`.
 */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : "";
  const status = /\[StatusCode=(\d{3})\]/.exec(message)?.[1] ?? /status (\d{3})/.exec(message)?.[1];
  return status ? `HTTP ${status}` : "no response";
}
