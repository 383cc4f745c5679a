// Capturing what a synchronous call throws, for assertions on typed errors.

/** What `fn` throws; fails the test when it does not throw. */
export function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}
