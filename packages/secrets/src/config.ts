import { z } from "zod";
import { SecretsError } from "./errors.js";
import type { EnvRecord } from "./file-source.js";
import type { SecretsProviderOptions } from "./provider.js";

const positiveInt = (fallback: number) =>
  z.coerce.number().int().positive().max(2_147_483_647).default(fallback);

const secretsSchema = z
  .object({
    SECRET_FILE_MAX_BYTES: positiveInt(65_536),
    SECRET_FILE_TIMEOUT_MS: positiveInt(5_000),
    INFISICAL_SITE_URL: z.url().default("https://app.infisical.com"),
    INFISICAL_CLIENT_ID: z.string().min(1).optional(),
    // Read by the provider (it may come from INFISICAL_CLIENT_SECRET_FILE); listed for the docs.
    INFISICAL_CLIENT_SECRET: z.string().optional(),
    INFISICAL_PROJECT_ID: z.string().min(1).optional(),
    INFISICAL_ENVIRONMENT: z.string().min(1).optional(),
    INFISICAL_SECRET_PATH: z.string().startsWith("/").default("/"),
    INFISICAL_CACHE_TTL_SECONDS: positiveInt(300),
    INFISICAL_TIMEOUT_MS: positiveInt(10_000),
  })
  .superRefine((env, ctx) => {
    if (!env.INFISICAL_CLIENT_ID) {
      if (env.INFISICAL_PROJECT_ID || env.INFISICAL_ENVIRONMENT) {
        ctx.addIssue({
          code: "custom",
          path: ["INFISICAL_CLIENT_ID"],
          message: "required when INFISICAL_PROJECT_ID or INFISICAL_ENVIRONMENT is set",
        });
      }
      return;
    }
    for (const name of ["INFISICAL_PROJECT_ID", "INFISICAL_ENVIRONMENT"] as const) {
      if (!env[name])
        ctx.addIssue({ code: "custom", path: [name], message: "required when INFISICAL_CLIENT_ID is set" });
    }
  });

/**
 * Turns configuration variables (the app's environment, as a plain record) into the provider's
 * options; the app adds the names that may hold secrets. Messages name variables, never values.
 */
export function secretsOptionsFromConfig(
  config: EnvRecord,
): Omit<SecretsProviderOptions, "names" | "signal"> {
  const parsed = secretsSchema.safeParse(config);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `  ${issue.path.join(".") || "env"}: ${issue.message}`,
    );
    throw new SecretsError("CONFIG_INVALID", `Invalid configuration:\n${problems.join("\n")}`);
  }
  const e = parsed.data;
  return {
    env: config,
    files: { maxBytes: e.SECRET_FILE_MAX_BYTES, timeoutMs: e.SECRET_FILE_TIMEOUT_MS },
    ...(e.INFISICAL_CLIENT_ID && e.INFISICAL_PROJECT_ID && e.INFISICAL_ENVIRONMENT
      ? {
          infisical: {
            siteUrl: e.INFISICAL_SITE_URL,
            clientId: e.INFISICAL_CLIENT_ID,
            projectId: e.INFISICAL_PROJECT_ID,
            environment: e.INFISICAL_ENVIRONMENT,
            secretPath: e.INFISICAL_SECRET_PATH,
            timeoutMs: e.INFISICAL_TIMEOUT_MS,
            refreshIntervalMs: e.INFISICAL_CACHE_TTL_SECONDS * 1000,
          },
        }
      : {}),
  };
}
