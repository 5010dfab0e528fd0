import { spawn } from "node:child_process";
import { createServer } from "node:net";

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Runs a command to completion and returns its exit code and output; kills it
 * (and rejects) after `timeoutMs`.
 *
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd: string; env?: Record<string, string>; timeoutMs?: number }} options
 * @returns {Promise<{ code: number | null; stdout: string; stderr: string }>}
 */
export function runCommand(command, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} timed out\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 120_000);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The text of an MCP tool result's content blocks, joined by newlines. */
export function resultText(result) {
  const content = Array.isArray(result?.content) ? result.content : [];
  return content.map((item) => (typeof item?.text === "string" ? item.text : "")).join("\n");
}
