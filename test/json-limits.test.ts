import assert from "node:assert/strict";
import { test } from "node:test";
import { jsonTextDepth, jsonTextTooDeep, jsonValueDepth, jsonValueTooDeep } from "../src/core/json-limits.ts";

test("text depth counts nesting outside strings only", () => {
  assert.equal(jsonTextDepth("1"), 0);
  assert.equal(jsonTextDepth("[]"), 1);
  assert.equal(jsonTextDepth('{"a":[{"b":[]}]}'), 4);
  assert.equal(jsonTextDepth('{"a":"[[[[[[\\"[[["}'), 1);
  assert.equal(jsonTextDepth('["\\\\",[]]'), 2);
});

test("text depth stops early on hostile input", () => {
  const deep = `${"[".repeat(5000)}${"]".repeat(5000)}`;
  assert.equal(jsonTextDepth(deep, 32), 33);
  assert.ok(jsonTextTooDeep(deep));
  assert.ok(!jsonTextTooDeep(`${"[".repeat(32)}${"]".repeat(32)}`));
  assert.ok(jsonTextTooDeep(`${"[".repeat(33)}${"]".repeat(33)}`));
});

test("value depth is iterative and agrees with the text scan", () => {
  let v: unknown = 1;
  for (let i = 0; i < 6000; i++) v = [v];
  assert.equal(jsonValueDepth(v, 32), 33);
  assert.ok(jsonValueTooDeep(v));
  const ok = JSON.parse('{"a":[{"b":[]}],"c":{"d":1}}');
  assert.equal(jsonValueDepth(ok), jsonTextDepth(JSON.stringify(ok)));
  assert.equal(jsonValueDepth(null), 0);
  assert.equal(jsonValueDepth("x"), 0);
});
