import { existsSync } from "node:fs";
import { missingInCi } from "@mcp-langgraph/tooling/integration";
import { type Browser, chromium } from "playwright-core";

/** Where Debian (`apt-get install chromium`) and other distributions put the browser. */
const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** The system Chromium's path (CHROMIUM_PATH first), or undefined when none is installed. */
export function chromiumPath(): string | undefined {
  const configured = process.env.CHROMIUM_PATH;
  if (configured && existsSync(configured)) return configured;
  return CANDIDATES.find((path) => existsSync(path));
}

/**
 * Whether browser suites run: in CI a missing Chromium fails the run (`.ci/run` installs it),
 * on a developer machine the suite is skipped with a message.
 */
export function requireChromium(): boolean {
  if (chromiumPath() !== undefined) return true;
  return missingInCi("Chromium is not installed (apt-get install chromium)", "the browser suites");
}

/** A headless system Chromium driven by playwright-core (which downloads no browser of its own). */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (executablePath === undefined) throw new Error("Chromium is not installed (apt-get install chromium)");
  // --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath, headless: true, args: ["--no-sandbox"] });
}
