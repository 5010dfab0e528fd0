/** What one backend call ended with: its method, whether it failed, how long it took, its result. */
export type BackendCallObserver = (
  method: string,
  failed: boolean,
  seconds: number,
  result?: unknown,
) => void;

/**
 * The same object, with each listed async method timed for `observe` (metrics of backends the
 * packages expose no hook for). Methods run with the original object as `this`, so classes with
 * private fields keep working; the result and the error pass through untouched.
 */
export function timedBackend<T extends object>(
  target: T,
  methods: readonly (keyof T & string)[],
  observe: BackendCallObserver,
): T {
  const timed = new Set<string>(methods);
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object);
      if (typeof property !== "string" || !timed.has(property) || typeof value !== "function") {
        return typeof value === "function" ? value.bind(object) : value;
      }
      return (...args: unknown[]) => {
        const started = performance.now();
        const end = (failed: boolean, result?: unknown) =>
          observe(property, failed, (performance.now() - started) / 1000, result);
        return (value as (...a: unknown[]) => Promise<unknown>).apply(object, args).then(
          (result) => {
            end(false, result);
            return result;
          },
          (error: unknown) => {
            end(true);
            throw error;
          },
        );
      };
    },
  });
}
