/**
 * Child entry: probes `GET /health/live` every 100 ms while the bench loads the app. It lives in a
 * process of its own because the bench's event loop is busy with thousands of MCP calls at that
 * moment and would delay the probe itself. Each probe opens a new connection, as an orchestrator's
 * liveness probe does, so a full accept queue shows up too.
 */
import { request } from "node:http";
import { serveParent } from "./children.ts";

const PROBE_TIMEOUT_MS = 5_000;

export interface ProbeReport {
  probes: number;
  failures: number;
  maxMs: number;
  p99Ms: number;
}

let timer: NodeJS.Timeout | undefined;
let latencies: number[] = [];
let failures = 0;
let inFlight = new Set<Promise<void>>();

function probe(url: string): Promise<void> {
  const started = performance.now();
  return new Promise<void>((resolve) => {
    const settle = (ok: boolean) => {
      latencies.push(performance.now() - started);
      if (!ok) failures++;
      resolve();
    };
    const req = request(url, { agent: false, timeout: PROBE_TIMEOUT_MS }, (response) => {
      response.resume();
      response.once("end", () => settle(response.statusCode === 200));
      response.once("error", () => settle(false));
    });
    req.once("timeout", () => req.destroy(new Error("timeout")));
    req.once("error", () => settle(false));
    req.end();
  });
}

serveParent(
  {
    start: (arg) => {
      const { url, intervalMs } = arg as { url: string; intervalMs: number };
      latencies = [];
      failures = 0;
      inFlight = new Set();
      // Fixed rate, not "next after the previous": a slow answer must not thin out the probes.
      timer = setInterval(() => {
        const pending = probe(url);
        inFlight.add(pending);
        void pending.then(() => inFlight.delete(pending));
      }, intervalMs);
      return null;
    },
    stop: async (): Promise<ProbeReport> => {
      clearInterval(timer);
      await Promise.all(inFlight);
      const sorted = latencies.sort((a, b) => a - b);
      return {
        probes: sorted.length,
        failures,
        maxMs: sorted.at(-1) ?? Number.NaN,
        p99Ms: sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))] ?? Number.NaN,
      };
    },
  },
  null,
);
