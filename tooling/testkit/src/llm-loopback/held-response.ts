import type { ServerResponse } from "node:http";

/**
 * `response` as a wire format writes it, with every body write after the first one containing
 * `marker` held back (in order, the end included) until `gate` resolves: a vendor stream that is
 * provably mid-answer, on any wire, for as long as a test needs (e.g. to cancel the call there).
 * Writes released after the client has gone are dropped by Node, as a real server's would be.
 */
export function holdResponseAfter(
  response: ServerResponse,
  marker: string,
  gate: Promise<void>,
): ServerResponse {
  let seen = false;
  let open = false;
  const held: (() => void)[] = [];
  void gate.then(() => {
    open = true;
    for (const write of held.splice(0)) write();
  });
  const proxy = new Proxy(response, {
    get(target, property) {
      // `writeHead(...).end(body)` (sendJson) must end through the proxy too.
      if (property === "writeHead") {
        return (...args: unknown[]) => {
          (target.writeHead as (...a: unknown[]) => unknown).apply(target, args);
          return proxy;
        };
      }
      if (property === "write" || property === "end") {
        return (...args: unknown[]) => {
          const call = () => (target[property] as (...a: unknown[]) => unknown).apply(target, args);
          if (open || (property === "write" && !seen)) {
            if (typeof args[0] === "string" && args[0].includes(marker)) seen = true;
            return call();
          }
          held.push(call);
          return true;
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return proxy;
}
