import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { loadConfig } from "../src/config/load.ts";
import { prettyLine } from "../src/log.ts";

describe("log format", () => {
  test("pretty lines: local time, level, message, then key=value pairs; errors with their stack", () => {
    const tz = process.env.TZ;
    process.env.TZ = "Asia/Shanghai"; // UTC+8, no daylight saving
    try {
      const time = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
      const line = prettyLine(
        JSON.stringify({ level: 30, time, pid: 1, msg: "Parley listening", port: 8080, note: "two words" }),
        false,
      );
      assert.equal(line, '11:04:05.006 INFO  Parley listening  port=8080 note="two words"\n');
      const err = prettyLine(
        JSON.stringify({ level: 50, time, msg: "boom", err: { stack: "Error: x\n    at f" } }),
        false,
      );
      assert.equal(err, "11:04:05.006 ERROR boom\n    Error: x\n        at f\n");
      assert.ok(prettyLine(JSON.stringify({ level: 40, time, msg: "w" }), true).includes("\x1b[33mWARN"), "coloured");
      assert.equal(prettyLine("not json", false), "not json\n");
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  test("logFormat: auto by default, json and pretty accepted, anything else refused", () => {
    assert.equal(loadConfig({ env: {} }).config.logFormat, "auto");
    assert.equal(loadConfig({ env: { PARLEY_LOG_FORMAT: "json" } }).config.logFormat, "json");
    assert.equal(loadConfig({ env: {}, argv: ["--log-format=pretty"] }).config.logFormat, "pretty");
    assert.throws(() => loadConfig({ env: { PARLEY_LOG_FORMAT: "xml" } }), /one of auto, json, pretty/);
  });
});
