/**
 * What a call that must fail rejected with; fails the test if it resolves. Every package's tests
 * had a copy of this; the type parameter only narrows for the caller, it checks nothing.
 */
export async function rejectionOf<T = unknown>(promise: Promise<unknown>): Promise<T> {
  try {
    await promise;
  } catch (error) {
    return error as T;
  }
  throw new Error("expected the call to fail");
}

/**
 * The `code` of the package error a call rejects with; fails the test if it resolves or rejects
 * with anything the guard does not accept (so a stray TypeError is never mistaken for a code).
 */
export async function codeOf<E extends { code: string }>(
  promise: Promise<unknown>,
  isPackageError: (error: unknown) => error is E,
): Promise<E["code"]> {
  const error = await rejectionOf(promise);
  if (isPackageError(error)) return error.code;
  throw error;
}
