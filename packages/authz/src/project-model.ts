import { readFile } from "node:fs/promises";

/** URL of the project's OpenFGA model; `model/` sits beside both `src/` and `dist/`. */
export const projectModelUrl = new URL("../model/project.fga", import.meta.url);

/** The DSL text of the project's authorization model (shipped in the package). */
export function loadProjectModel(): Promise<string> {
  return readFile(projectModelUrl, "utf8");
}
