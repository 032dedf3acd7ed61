/**
 * Runs a test once per client stack (grpc-js, connect-node, ...) of a suite whose stacks are built
 * in `beforeAll`: the test looks its stack up by name when it runs, so the list may still be empty
 * when the tests are declared.
 */
import { it } from "vitest";

/** Declares `it("<name>: <title>")` for each of `names`, running `body` with the stack of that name from `surfaces`. */
export function eachSurface<S extends { readonly name: string }>(
  surfaces: readonly S[],
  names: readonly string[],
  title: string,
  body: (s: S) => Promise<void>,
): void {
  for (const name of names) {
    it(`${name}: ${title}`, async () => {
      const s = surfaces.find((x) => x.name === name);
      if (s === undefined) throw new Error(`no surface ${name}`);
      await body(s);
    });
  }
}
