// oidc-provider ships no types; the tests only use a small, loosely typed part of it.
declare module "oidc-provider" {
  // biome-ignore lint/suspicious/noExplicitAny: untyped third-party module
  const Provider: any;
  // biome-ignore lint/suspicious/noExplicitAny: untyped third-party module
  export const errors: any;
  export default Provider;
}
