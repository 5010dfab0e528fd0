import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "@mcp-langgraph/tooling/testing";

export interface PackedPackage {
  name: string;
  tarball: string;
  /** package.json as published (publishConfig applied, workspace: ranges replaced). */
  manifest: Record<string, unknown>;
  /** Paths inside the tarball, relative to the package root ("dist/index.mjs"). */
  files: Set<string>;
}

/** `pnpm pack`s one package, as `pnpm publish` would, and reads back what the tarball holds. */
export async function pack(dir: string, destination: string): Promise<PackedPackage> {
  const packed = await runCommand("pnpm", ["pack", "--pack-destination", destination], {
    cwd: dir,
    timeoutMs: 120_000,
  });
  if (packed.code !== 0) throw new Error(`pnpm pack failed in ${dir}\n${packed.stdout}\n${packed.stderr}`);
  const tarball = packed.stdout.trim().split("\n").at(-1)?.trim() ?? "";
  const listing = await runCommand("tar", ["-tzf", tarball], { cwd: destination, timeoutMs: 60_000 });
  if (listing.code !== 0) throw new Error(`cannot list ${tarball}: ${listing.stderr}`);
  const files = new Set(
    listing.stdout
      .split("\n")
      .filter(Boolean)
      .map((path) => path.replace(/^package\//, "")),
  );
  const unpacked = mkdtempSync(join(destination, "unpacked-"));
  const extract = await runCommand("tar", ["-xzf", tarball, "-C", unpacked, "package/package.json"], {
    cwd: destination,
    timeoutMs: 60_000,
  });
  if (extract.code !== 0) throw new Error(`cannot read the manifest of ${tarball}: ${extract.stderr}`);
  const manifest = JSON.parse(readFileSync(join(unpacked, "package", "package.json"), "utf8"));
  return { name: String(manifest.name), tarball, manifest, files };
}

/** Every [condition path, target] of an `exports` value, however nested. */
export function exportTargets(value: unknown, path: string[] = []): [string[], string][] {
  if (typeof value === "string") return [[path, value]];
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, nested]) => exportTargets(nested, [...path, key]));
}

/** Files the manifest promises: every `exports` target, `main`, `types`, every `bin`. */
export function referencedFiles(manifest: Record<string, unknown>): string[] {
  const bin = manifest.bin;
  const bins = typeof bin === "string" ? [bin] : bin && typeof bin === "object" ? Object.values(bin) : [];
  return [
    ...exportTargets(manifest.exports).map(([, target]) => target),
    ...[manifest.main, manifest.types, ...bins].filter((entry): entry is string => typeof entry === "string"),
  ].map((file) => file.replace(/^\.\//, ""));
}

/** Dependency ranges the registry could never resolve (pnpm's `workspace:` protocol). */
export function workspaceRanges(manifest: Record<string, unknown>): string[] {
  const fields = ["dependencies", "peerDependencies", "optionalDependencies", "devDependencies"];
  return fields.flatMap((field) =>
    Object.entries((manifest[field] as Record<string, string> | undefined) ?? {})
      .filter(([, range]) => range.startsWith("workspace:"))
      .map(([dep, range]) => `${field}.${dep}: ${range}`),
  );
}

export const tarballsIn = (dir: string) => readdirSync(dir).filter((file) => file.endsWith(".tgz"));
