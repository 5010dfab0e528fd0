/** One backend's probe: resolves true when it answers; false (never a throw) when it does not. */
export type ReadinessProbe = (signal: AbortSignal) => Promise<boolean>;

export interface ReadinessReport {
  ready: boolean;
  /** Set once shutdown has begun: the balancer must stop routing here before anything else fails. */
  draining?: true;
  checks: Record<string, boolean>;
}

export interface Readiness {
  check(): Promise<ReadinessReport>;
  /** From now on every check answers "not ready" at once, without probing (SIGTERM). */
  drain(): void;
}

/**
 * Readiness of this instance: each configured backend probed in parallel under one deadline
 * (a probe that outlives it counts as down), and "not ready" as soon as draining starts.
 */
export function createReadiness(probes: Record<string, ReadinessProbe>, timeoutMs: number): Readiness {
  let draining = false;
  return {
    drain() {
      draining = true;
    },
    async check() {
      if (draining) return { ready: false, draining: true, checks: {} };
      const signal = AbortSignal.timeout(timeoutMs);
      const timedOut = new Promise<false>((resolve) =>
        signal.addEventListener("abort", () => resolve(false), { once: true }),
      );
      const entries = await Promise.all(
        Object.entries(probes).map(async ([name, probe]) => {
          const up = await Promise.race([probe(signal).catch(() => false), timedOut]);
          return [name, up] as const;
        }),
      );
      const checks = Object.fromEntries(entries);
      // Shutdown may have begun while the probes ran.
      if (draining) return { ready: false, draining: true, checks };
      return { ready: entries.every(([, up]) => up), checks };
    },
  };
}
