/**
 * Preloaded into every test file by `npm test` (through `test/helpers/preload.ts`).
 *
 * Given no message, a failing `assert.ok(x)` makes Node build one from the source text of the
 * call: it reads the file on disk at the line and column V8 reports and re-parses it with acorn
 * from ever later offsets until an expression covers that column. Under tsx those positions are in
 * the transformed code (a handful of long lines), not in the .ts file, so the search never
 * succeeds; in a 15 KB test file it spun a core for minutes, and the failure surfaced as the
 * runner's 300 s timeout instead of an assertion error (measured: one failing `assert.ok` in
 * test/im-access.test.ts, > 120 s of CPU). This replaces `ok` with the same check that always
 * passes a message, the value it got, so the search is never run.
 */
import assert from "node:assert";
import { syncBuiltinESMExports } from "node:module";
import { inspect } from "node:util";

function ok(...args: unknown[]): void {
  if (args.length === 0)
    throw new assert.AssertionError({ message: "No value argument passed to `assert.ok()`", stackStartFn: ok });
  const [value, message] = args;
  if (value) return;
  if (message instanceof Error) throw message;
  throw new assert.AssertionError({
    actual: value,
    expected: true,
    operator: "==",
    message: typeof message === "string" ? message : `expected a truthy value, got ${inspect(value)}`,
    stackStartFn: ok,
  });
}

const patched = ok as unknown as typeof assert.ok;
for (const target of [assert, assert.strict]) target.ok = patched;
syncBuiltinESMExports();
