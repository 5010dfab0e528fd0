/**
 * Child processes of the bench. Every server under measurement (the app, the model, the peers) and
 * the bare LangGraph floor runs in its own process, so /proc gives each one's CPU and memory alone
 * and none of them shares an event loop with the load generator.
 *
 * The bench's own children talk over Node's IPC channel: the child announces `{ ready }` once it
 * listens, then answers `{ id, name, arg }` requests with `{ id, result }` or `{ id, error }`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const live = new Set<ChildProcess>();

/** Last resort: whatever happens to the bench (an exception, Ctrl-C), no child outlives it. */
function killAllNow(): void {
  for (const child of live) child.kill("SIGKILL");
  live.clear();
}
process.once("exit", killAllNow);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killAllNow();
    process.exit(130);
  });
}

export interface Child {
  readonly pid: number;
  readonly name: string;
  /** Ends the process: SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

function track(name: string, child: ChildProcess): Child {
  if (child.pid === undefined) throw new Error(`${name}: spawn failed`);
  live.add(child);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  void exited.then(() => live.delete(child));
  return {
    pid: child.pid,
    name,
    async stop(graceMs = 3_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits for `ready` or rejects with what the process said if it exits or stays silent too long. */
function untilReady<T>(name: string, child: ChildProcess, start: (done: (value: T) => void) => void) {
  return new Promise<T>((resolve, reject) => {
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      // Keep only the tail: enough to explain a failed start, bounded if a child is chatty.
      stderr = (stderr + chunk.toString()).slice(-4_000);
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start within 60 s\n${stderr}`));
    }, 60_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it was ready\n${stderr}`));
    };
    child.once("exit", onExit);
    start((value) => {
      clearTimeout(timer);
      child.off("exit", onExit);
      resolve(value);
    });
  });
}

export interface BenchChild<Ready> extends Child {
  readonly ready: Ready;
  /** Calls a handler of the child; rejects after `timeoutMs` so the bench never waits forever. */
  call<T>(name: string, arg?: unknown, timeoutMs?: number): Promise<T>;
}

type Reply = { id: number; result?: unknown; error?: string };

/** Starts one of the bench's TypeScript entries (through tsx) with an IPC channel. */
export async function startBenchChild<Ready>(
  entry: URL,
  options: { name: string; env?: Record<string, string>; args?: string[] },
): Promise<BenchChild<Ready>> {
  const child = spawn(
    process.execPath,
    ["--import", import.meta.resolve("tsx"), fileURLToPath(entry), ...(options.args ?? [])],
    {
      env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", ...options.env },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    },
  );
  const handle = track(options.name, child);
  const pending = new Map<number, (reply: Reply) => void>();
  let nextId = 1;
  child.on("message", (message: unknown) => {
    const reply = message as Reply;
    pending.get(reply.id)?.(reply);
    pending.delete(reply.id);
  });
  child.once("exit", (code) => {
    for (const settle of pending.values()) settle({ id: 0, error: `${options.name} exited (${code})` });
    pending.clear();
  });
  const ready = await untilReady<Ready>(options.name, child, (done) => {
    const onMessage = (message: unknown) => {
      const value = message as { ready?: Ready };
      if (value.ready === undefined) return;
      child.off("message", onMessage);
      done(value.ready);
    };
    child.on("message", onMessage);
  });
  return {
    ...handle,
    ready,
    call<T>(name: string, arg?: unknown, timeoutMs = 300_000) {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${options.name}: ${name} took longer than ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, (reply) => {
          clearTimeout(timer);
          if (reply.error !== undefined) reject(new Error(`${options.name}: ${reply.error}`));
          else resolve(reply.result as T);
        });
        child.send({ id, name, arg });
      });
    },
  };
}

/** Starts a plain Node entry (the built app); ready once its stderr contains `readyText`. */
export async function startNodeProcess(
  script: string,
  options: { name: string; env: Record<string, string>; readyText: string },
): Promise<Child> {
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH ?? "", ...options.env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const handle = track(options.name, child);
  let seen = "";
  await untilReady<void>(options.name, child, (done) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      if (seen.includes(options.readyText)) return;
      seen += chunk.toString();
      if (seen.includes(options.readyText)) done();
    });
  });
  return handle;
}

/** Stops these children together (each: SIGTERM, then SIGKILL after its grace period). */
export async function stopAll(children: Iterable<Child | undefined>): Promise<void> {
  await Promise.allSettled([...children].map((child) => child?.stop()));
}

// ---- child side ----

/** In a child: serve the parent's requests with `handlers`, then announce `ready`. */
export function serveParent(handlers: Record<string, (arg: unknown) => unknown>, ready: unknown): void {
  if (!process.send) throw new Error("this entry runs as a child of the bench (it needs an IPC channel)");
  process.on("message", (message: { id: number; name: string; arg: unknown }) => {
    const handler = handlers[message.name];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`no handler ${message.name}`);
        return handler(message.arg);
      })
      .then(
        (result) => process.send?.({ id: message.id, result }),
        (error: unknown) =>
          process.send?.({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
      );
  });
  // The parent going away (even by SIGKILL) closes the channel: leave with it, never orphaned.
  process.once("disconnect", () => process.exit(0));
  process.send({ ready });
}
