/**
 * CPU time and memory of another process, read from /proc (Linux). The bench measures each server
 * from outside, so the figures cover everything that process does (its GC and libuv threads too)
 * and nothing the load generator does.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

/** Kernel clock ticks per second, the unit of utime/stime in /proc/<pid>/stat. */
export const CLOCK_TICKS = (() => {
  try {
    const value = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU the process has used since it started, in milliseconds (tick resolution). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the name: state is field 3, so utime (14) and stime (15) are at offsets 11 and 12.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS;
}

function statusKb(pid: number, key: "VmRSS" | "VmHWM"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status);
  return match ? Number(match[1]) : 0;
}

export const rssKb = (pid: number) => statusKb(pid, "VmRSS");

export interface RssSampler {
  /** Stops sampling; the highest resident set size seen, in kB. */
  stop(): number;
}

/**
 * Samples VmRSS every `intervalMs`. A spike shorter than the interval could slip between samples, so
 * when the kernel lets us reset the process's high-water mark (clear_refs "5"), VmHWM is taken too.
 */
export function sampleRss(pid: number, intervalMs = 100): RssSampler {
  let hwmReset = false;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    hwmReset = true;
  } catch {
    // Not permitted or not supported: the sampled peak alone.
  }
  let peak = rssKb(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssKb(pid));
    } catch {
      // The process ended; stop() reports what was seen.
    }
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      try {
        peak = Math.max(peak, rssKb(pid), hwmReset ? statusKb(pid, "VmHWM") : 0);
      } catch {
        // As above.
      }
      return peak;
    },
  };
}
