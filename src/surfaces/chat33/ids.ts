import { invalid, notFound } from "../../core/errors.ts";
import type { User } from "../../ports/storage/accounts.ts";
import type { Services } from "../deps.ts";

/**
 * chat33 sends every id as a decimal string (`"id": "8"`, `"logId": "123"`). These helpers turn
 * them into numbers at the edge; a string that cannot be an id is treated like an unknown id.
 */
const ID_RE = /^[1-9][0-9]{0,14}$/;

/** The number of a decimal id string, or null when the string cannot be an id. */
export const parseId = (s: string): number | null => (ID_RE.test(s) ? Number(s) : null);

/**
 * A user id string → the user; anything else is -2001 用户不存在. Disabled accounts count as
 * missing for new relations (friend requests, search) but not for settings and history of an
 * existing friendship (`includeDisabled`).
 */
export async function userById(
  deps: Pick<Services, "accounts">,
  id: string,
  opts: { includeDisabled?: boolean } = {},
): Promise<User> {
  const n = parseId(id);
  const user = n === null ? null : await deps.accounts.findUser(n);
  if (!user || (user.disabled && !opts.includeDisabled)) throw notFound("user_not_found", "user does not exist");
  return user;
}

/** A message id string → its number; anything else is -1001 (bad_log_id). */
export function logIdOf(s: string): number {
  const n = parseId(s);
  if (n === null) throw invalid("bad_log_id", "logId must be a message id");
  return n;
}
