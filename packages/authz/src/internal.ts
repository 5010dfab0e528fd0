// The engine without the async wrapper, for this package's tests; not part of the public API.
export { Engine } from "./engine/engine.ts";
