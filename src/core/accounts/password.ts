import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/**
 * scrypt password hashes, self-describing: `scrypt$<logN>$<r>$<p>$<salt b64>$<hash b64>`. The
 * parameters travel with the hash, so raising the work factor later only affects new hashes and
 * `needsRehash` tells a login to upgrade an old one.
 */
export interface ScryptParams {
  logN: number;
  r: number;
  p: number;
}

const KEYLEN = 32;

function derive(password: string, salt: Buffer, { logN, r, p }: ScryptParams): Promise<Buffer> {
  const N = 2 ** logN;
  // Node caps scrypt memory at 32 MiB by default; N=2^17, r=8 needs 128 MiB (+ slack).
  const maxmem = 128 * N * r * 2;
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, KEYLEN, { N, r, p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string, params: ScryptParams): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params);
  return `scrypt$${params.logN}$${params.r}$${params.p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const params = { logN: Number(parts[1]), r: Number(parts[2]), p: Number(parts[3]) };
  if (!Number.isInteger(params.logN) || params.logN < 1 || params.logN > 22) return false;
  const expected = Buffer.from(parts[5], "base64");
  const key = await derive(password, Buffer.from(parts[4], "base64"), params);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

export function needsRehash(stored: string, params: ScryptParams): boolean {
  const parts = stored.split("$");
  return parts[1] !== String(params.logN) || parts[2] !== String(params.r) || parts[3] !== String(params.p);
}

/** A hash of a random password, used to spend the same time on unknown accounts as on known ones. */
let dummy: Promise<string> | null = null;
export function dummyHash(params: ScryptParams): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString("hex"), params);
  return dummy;
}
