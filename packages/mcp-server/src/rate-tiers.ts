import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { McpServerError } from "./errors.js";

/** What one role's holders may use; a user with several roles gets the most generous of each. */
export interface RateTier {
  toolCallsPerMinute: number;
  /** Model tokens (input + output) per 24 hours; absent means no token limit for this role. */
  modelTokensPerDay?: number;
}

const ROLE_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const tierSchema = z.strictObject({
  toolCallsPerMinute: z.number().int().min(1).max(1_000_000),
  modelTokensPerDay: z.number().int().min(1).max(1_000_000_000_000).optional(),
});
const tiersSchema = z.strictObject({
  tiers: z.record(z.string(), tierSchema).superRefine((tiers, ctx) => {
    for (const role of Object.keys(tiers)) {
      if (!ROLE_PATTERN.test(role))
        ctx.addIssue({
          code: "custom",
          path: [role],
          message: "role names are letters, digits and _ . - (at most 64)",
        });
    }
  }),
});

/**
 * Parses a tiers document (`tiers: { <role>: { toolCallsPerMinute, modelTokensPerDay? } }`).
 * Throws CONFIG_INVALID naming every problem by its path in the document.
 */
export function parseRateTiers(source: string, format: "json" | "yaml" = "yaml"): Record<string, RateTier> {
  let document: unknown;
  try {
    document = format === "json" ? JSON.parse(source) : parseYaml(source);
  } catch (error) {
    throw new McpServerError(
      "CONFIG_INVALID",
      `not valid ${format.toUpperCase()}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const parsed = tiersSchema.safeParse(document);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join(".") || "document"}: ${issue.message}`,
    );
    throw new McpServerError("CONFIG_INVALID", problems.join("; "));
  }
  return parsed.data.tiers as Record<string, RateTier>;
}

/** Reads and validates a tiers file (JSON when it ends in .json, YAML otherwise); errors name the file. */
export async function loadRateTiersFile(
  path: string,
  { signal }: { signal?: AbortSignal } = {},
): Promise<Record<string, RateTier>> {
  let source: string;
  try {
    source = await readFile(path, { encoding: "utf8", ...(signal ? { signal } : {}) });
  } catch (cause) {
    throw new McpServerError("CONFIG_INVALID", `rate-limit tiers file ${path} cannot be read`, { cause });
  }
  try {
    return parseRateTiers(source, path.endsWith(".json") ? "json" : "yaml");
  } catch (error) {
    throw new McpServerError(
      "CONFIG_INVALID",
      `rate-limit tiers file ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
