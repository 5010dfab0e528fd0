/**
 * Child entry: probes `GET /health/live` every 100 ms while the bench loads the app. It lives in a
 * process of its own because the bench's event loop is busy with thousands of MCP calls at that
 * moment and would delay the probe itself.
 *
 * Each tick sends two probes: one on a new connection, as an orchestrator's liveness probe does (a
 * full accept queue shows up there: SYN retries cost 1 s, 3 s, …), and one on a kept-alive
 * connection (only the server's event loop is in its way). The two tell those causes apart.
 */
import { Agent, request } from "node:http";
import { serveParent } from "./children.ts";

const PROBE_TIMEOUT_MS = 5_000;

export interface ProbeStats {
  probes: number;
  failures: number;
  maxMs: number;
  p99Ms: number;
}

export interface ProbeReport {
  newConnection: ProbeStats;
  keepAlive: ProbeStats;
}

class Probe {
  latencies: number[] = [];
  failures = 0;
  readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly agent: Agent | false) {}

  send(url: string): void {
    const started = performance.now();
    const pending = new Promise<void>((resolve) => {
      let settled = false;
      const settle = (ok: boolean) => {
        if (settled) return;
        settled = true;
        this.latencies.push(performance.now() - started);
        if (!ok) this.failures++;
        resolve();
      };
      const req = request(url, { agent: this.agent, timeout: PROBE_TIMEOUT_MS }, (response) => {
        response.resume();
        response.once("end", () => settle(response.statusCode === 200));
        response.once("error", () => settle(false));
      });
      req.once("timeout", () => req.destroy(new Error("timeout")));
      req.once("error", () => settle(false));
      req.end();
    });
    this.inFlight.add(pending);
    void pending.then(() => this.inFlight.delete(pending));
  }

  async report(): Promise<ProbeStats> {
    await Promise.all(this.inFlight);
    const sorted = this.latencies.sort((a, b) => a - b);
    return {
      probes: sorted.length,
      failures: this.failures,
      maxMs: sorted.at(-1) ?? Number.NaN,
      p99Ms: sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))] ?? Number.NaN,
    };
  }
}

const keepAliveAgent = new Agent({ keepAlive: true, maxSockets: 1 });
let timer: NodeJS.Timeout | undefined;
let fresh = new Probe(false);
let kept = new Probe(keepAliveAgent);

serveParent(
  {
    start: (arg) => {
      const { url, intervalMs } = arg as { url: string; intervalMs: number };
      fresh = new Probe(false);
      kept = new Probe(keepAliveAgent);
      // Fixed rate, not "next after the previous": a slow answer must not thin out the probes.
      timer = setInterval(() => {
        fresh.send(url);
        kept.send(url);
      }, intervalMs);
      return null;
    },
    stop: async (): Promise<ProbeReport> => {
      clearInterval(timer);
      return { newConnection: await fresh.report(), keepAlive: await kept.report() };
    },
  },
  null,
);
