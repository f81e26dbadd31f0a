import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { formatUnits, MAX_UNITS, unitsToWire, wireToUnits } from "../src/core/wallet/amount.ts";
import { equalSplit, randomSplit } from "../src/core/wallet/split.ts";

/** Property tests of the two splits and of the wire ↔ units conversion (fast-check). */

const packets = fc
  .tuple(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 0, max: 10 ** 12 }))
  .map(([size, extra]) => ({ size, amount: size + extra }));

const holds = (shares: number[], amount: number, size: number) => {
  assert.equal(shares.length, size);
  assert.ok(
    shares.every((x) => Number.isSafeInteger(x) && x >= 1),
    "every share ≥ 1 unit",
  );
  assert.equal(
    shares.reduce((a, b) => a + b, 0),
    amount,
    "the shares sum to the amount exactly",
  );
};

describe("red-packet splits", () => {
  test("random (double mean): size shares, each ≥ 1 unit, summing exactly", () => {
    fc.assert(
      fc.property(packets, ({ amount, size }) => holds(randomSplit(amount, size), amount, size)),
      { numRuns: 500 },
    );
  });

  test("random: no share above twice the mean of what was left when it was cut", () => {
    fc.assert(
      fc.property(packets, ({ amount, size }) => {
        const shares = randomSplit(amount, size);
        let left = amount;
        shares.slice(0, -1).forEach((x, i) => {
          const n = size - i;
          assert.ok(x <= Math.max(1, Math.floor((2 * left) / n)), `${x} of ${left} over ${n}`);
          left -= x;
        });
      }),
      { numRuns: 300 },
    );
  });

  test("random with an adversarial source (always min, always max) still holds", () => {
    fc.assert(
      fc.property(packets, fc.boolean(), ({ amount, size }, high) => {
        holds(
          randomSplit(amount, size, (min, max) => (high ? max : min)),
          amount,
          size,
        );
      }),
      { numRuns: 300 },
    );
  });

  test("random with huge amounts near the safe-integer limit", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 0, max: 1000 }), (size, minus) => {
        const amount = MAX_UNITS - minus;
        holds(randomSplit(amount, size), amount, size);
      }),
      { numRuns: 100 },
    );
  });

  test("equal: ⌊amount/size⌋ each, the remainder one unit each to the first; max − min ≤ 1", () => {
    fc.assert(
      fc.property(packets, ({ amount, size }) => {
        const shares = equalSplit(amount, size);
        holds(shares, amount, size);
        assert.ok(Math.max(...shares) - Math.min(...shares) <= 1);
      }),
      { numRuns: 500 },
    );
  });

  test("impossible packets are refused (fewer units than shares)", () => {
    assert.throws(() => randomSplit(2, 3), RangeError);
    assert.throws(() => equalSplit(0, 1), RangeError);
    assert.throws(() => equalSplit(5, 0), RangeError);
  });
});

describe("amounts on the wire", () => {
  test("units → wire → units is the identity; formatting shows no float artefacts", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_UNITS }), (u) => {
        assert.equal(wireToUnits(unitsToWire(u)) ?? wireToUnits(formatUnits(u)), u);
        assert.equal(wireToUnits(formatUnits(u)), u);
      }),
      { numRuns: 2000 },
    );
    assert.equal(unitsToWire(10_000_000 + 20_000_000), 0.3);
    assert.equal(formatUnits(123_000_000), "1.23");
    assert.equal(wireToUnits(0.1), 10_000_000);
    assert.equal(wireToUnits(1e-8), 1);
    assert.equal(wireToUnits("2.5"), 250_000_000);
  });

  test("refused: more than 8 decimals, zero, negatives, non-finite, past the limit, junk", () => {
    for (const v of [
      1e-9,
      0.123456789,
      0,
      -1,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      1e300,
      "1e",
      "abc",
      "",
      "0x10",
      null,
      true,
    ])
      assert.equal(wireToUnits(v), null, String(v));
  });
});
