import { ok as namedOk } from "node:assert";
import assert from "node:assert/strict";
import { test } from "node:test";

/** test/helpers/assert-ok.ts (preloaded by `npm test`): a failing assert.ok always carries a message. */
test("assert.ok under npm test: passes on truthy, fails at once with the value it got", () => {
  assert.equal(assert.ok.name, "ok");
  assert.equal(namedOk, assert.ok, "the named export is the same function");
  assert.ok(1);
  assert.ok("x", "unused message");
  assert.throws(() => assert.ok(0), { name: "AssertionError", message: "expected a truthy value, got 0", actual: 0 });
  assert.throws(() => assert.ok(undefined, "mine"), { name: "AssertionError", message: "mine" });
  const own = new RangeError("own error");
  assert.throws(
    () => assert.ok(null, own),
    (e: unknown) => e === own,
  );
  assert.throws(() => (assert.ok as unknown as () => void)(), { message: /No value argument/ });
  let where = "";
  try {
    assert.ok(false);
  } catch (e) {
    where = String((e as Error).stack).split("\n")[1] ?? "";
  }
  assert.match(where, /assert-ok\.test\.ts/, "the stack starts at the caller, not in the helper");
});
