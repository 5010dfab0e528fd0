import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));

export interface WorkspacePackage {
  name: string;
  dir: string;
}

/** Every workspace package that would be published: under packages/ or apps/, not private. */
export function publishablePackages(): WorkspacePackage[] {
  const found: WorkspacePackage[] = [];
  for (const group of ["packages", "apps"]) {
    for (const entry of readdirSync(join(REPO_ROOT, group), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = join(REPO_ROOT, group, entry.name);
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      if (!manifest.private) found.push({ name: manifest.name, dir });
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}
