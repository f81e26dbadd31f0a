import { randomInt } from "node:crypto";

/**
 * The two ways a packet's amount is cut into shares, on integer units, computed once when the
 * packet is sent (the shares are stored; claims only take them). Both return exactly `size`
 * shares, each ≥ 1 unit, summing to exactly `amount` (test/red-packet-split.test.ts proves it
 * with fast-check). `amount ≥ size ≥ 1` is the caller's precondition.
 */

/** A random integer in [min, max] (inclusive); `rand` is replaceable for tests. */
export type Rand = (min: number, max: number) => number;

/** crypto.randomInt takes ranges below 2^48; larger ranges are drawn in two parts. */
export const cryptoRand: Rand = (min, max) => {
  const span = max - min + 1;
  if (span <= 2 ** 48 - 1) return min + randomInt(span);
  const hi = Math.floor(span / 2 ** 24);
  const v = randomInt(hi) * 2 ** 24 + randomInt(2 ** 24);
  return min + (v % span);
};

/**
 * Random (拼手气, type 1), the double-mean rule: with `r` units and `n` shares left, the next share
 * is uniform in [1, min(⌊2r/n⌋ − 1, r − (n − 1))] (at least 1), so the expected share is the
 * mean of what is left, nobody gets 0, and the last share takes the remainder.
 */
export function randomSplit(amount: number, size: number, rand: Rand = cryptoRand): number[] {
  check(amount, size);
  const out: number[] = [];
  let left = amount;
  for (let n = size; n > 1; n--) {
    const max = Math.max(1, Math.min(Math.floor((2 * left) / n) - 1, left - (n - 1)));
    const share = rand(1, max);
    out.push(share);
    left -= share;
  }
  out.push(left);
  return out;
}

/** Equal (普通, type 2): ⌊amount/size⌋ each, the remainder one unit each to the first shares. */
export function equalSplit(amount: number, size: number): number[] {
  check(amount, size);
  const base = Math.floor(amount / size);
  const extra = amount - base * size;
  return Array.from({ length: size }, (_, i) => base + (i < extra ? 1 : 0));
}

function check(amount: number, size: number): void {
  if (!Number.isSafeInteger(amount) || !Number.isSafeInteger(size) || size < 1 || amount < size)
    throw new RangeError(`cannot split ${amount} units into ${size} shares of at least 1`);
}
