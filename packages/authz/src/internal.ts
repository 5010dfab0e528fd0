// Engine internals for this package's tests, bench and dev server; not part of the public API.
export { Engine } from "./engine/engine.ts";
export { type AuthorizationModelJson, compileModel, compileModelJson } from "./engine/model.ts";
export { TupleStore } from "./engine/store.ts";
