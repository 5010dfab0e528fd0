import net from "node:net";

/**
 * Decides whether an integration suite that needs an outside service runs.
 * In CI (CI=true) a missing service is a failure, never a silent skip; on a
 * developer machine the suite is skipped with a message saying what is missing.
 *
 * @param {{ name: string; url: string; timeoutMs?: number }} service
 * @returns {Promise<boolean>} true when the service answers on its TCP port
 */
export async function requireService({ name, url, timeoutMs = 1500 }) {
  const { hostname, port } = new URL(url);
  const reachable = await new Promise((resolve) => {
    const socket = net.connect({ host: hostname.replace(/^\[|\]$/g, ""), port: Number(port) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
  if (reachable) return true;
  return missingInCi(`${name} is not reachable at ${url}`, `the ${name} integration suite`);
}

/**
 * What a suite does when something it needs is missing: in CI (CI=true) throw, never skip
 * silently; on a developer machine warn and return false so the suite is skipped.
 *
 * @param {string} message what is missing
 * @param {string} suites which suites are skipped because of it
 * @returns {false}
 */
export function missingInCi(message, suites) {
  if (process.env.CI === "true" || process.env.CI === "1") {
    throw new Error(`${message}; CI requires it (integration suites never skip in CI)`);
  }
  console.warn(`[skip] ${message}; skipping ${suites} (set CI=true to make this fail)`);
  return false;
}
