/**
 * CPU time and memory of another process, read from /proc (Linux). The bench measures each server
 * from outside, so the figures cover everything that process does (its GC and libuv threads too)
 * and nothing the load generator does.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

/** Kernel clock ticks per second, the unit of utime/stime in /proc/<pid>/stat. */
export const CLOCK_TICKS = (() => {
  try {
    const value = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
})();

/**
 * The process and every live descendant (the workers of an app run with WORKERS=n), from
 * /proc/<pid>/task/<tid>/children; a process that ends while it is read is left out.
 */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    const parent = tree[i] as number;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        const children = readFileSync(`/proc/${parent}/task/${task}/children`, "utf8").trim();
        if (children) tree.push(...children.split(/\s+/).map(Number));
      } catch {
        // The task ended meanwhile.
      }
    }
  }
  return tree;
}

/** Sums `read` over the process tree of `pid`; the root must exist, a descendant that ended counts 0. */
function overTree(pid: number, read: (pid: number) => number): number {
  return processTree(pid).reduce((sum, member) => {
    try {
      return sum + read(member);
    } catch (error) {
      if (member === pid) throw error;
      return sum;
    }
  }, 0);
}

/**
 * User + system CPU the process and its live descendants have used, in milliseconds (tick
 * resolution). Descendants count so that WORKERS=n (a primary and n workers) is measured whole.
 */
export function cpuMs(pid: number): number {
  return overTree(pid, ownCpuMs);
}

function ownCpuMs(pid: number): number {
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

/** Resident set size of the process and its live descendants, in kB. */
export const rssKb = (pid: number) => overTree(pid, (member) => statusKb(member, "VmRSS"));

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
        // VmHWM is one process's: only comparable when the tree is that one process.
        const single = processTree(pid).length === 1;
        peak = Math.max(peak, rssKb(pid), hwmReset && single ? statusKb(pid, "VmHWM") : 0);
      } catch {
        // As above.
      }
      return peak;
    },
  };
}

/** Busy and total CPU ticks of the whole machine, summed over its cores (/proc/stat's `cpu` line). */
export interface MachineCpu {
  busy: number;
  total: number;
}

export function machineCpu(): MachineCpu {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
  // user nice system idle iowait irq softirq steal (guest time is already inside user and nice).
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((sum, value) => sum + value, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: total - idle, total };
}

/**
 * How many of the machine's cores were busy, on average, since `before`: everything counts (the
 * server, the load generator, Redis, Postgres, the model), so a figure near the core count means
 * the machine, not the server, set the limit.
 */
export function coresBusySince(before: MachineCpu, cores: number): number {
  const now = machineCpu();
  const total = now.total - before.total;
  return total > 0 ? ((now.busy - before.busy) / total) * cores : Number.NaN;
}
