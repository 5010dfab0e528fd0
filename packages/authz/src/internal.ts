// Engine internals for this package's tests, bench and dev server; not part of the public API.
export { Engine } from "./engine/engine.ts";
export { compileModel } from "./engine/model.ts";
