import type { User } from "../../ports/storage/accounts.ts";
import type { Friendship } from "./friendship.ts";

/** chat33 booleans on the wire: 1 yes, 2 no (document: verified "1: 已实名 2: 未实名", isFriend "1是 2否"). */
export const yesNo = (b: boolean): 1 | 2 => (b ? 1 : 2);

/** `account`: the mobile, or the username when the account has no mobile. */
export const accountOf = (u: User): string => u.mobile ?? u.username ?? "";

/** The user object of `/user/pwdLogin`, `/user/tokenLogin` and `/user/register` (without the token). */
export function loginView(u: User) {
  return {
    account: accountOf(u),
    avatar: u.avatar,
    id: String(u.id),
    uid: u.uid,
    user_level: u.level,
    username: u.nickname,
    verified: yesNo(u.verified),
  };
}

/** Both in the same company (内部员工): a non-null companyId that is equal. */
export const sameCompany = (a: User, b: User): boolean => a.companyId !== null && a.companyId === b.companyId;

/**
 * `/user/userInfo` with the document's field visibility:
 * - always `id, sex, name, avatar, isFriend`;
 * - `position` between colleagues of the same company (and for oneself);
 * - `noDisturbing, stickyOnTop, addTime, remark` when the viewer is the target's friend;
 * - `com_id, uid, account, phone, email, verified, userLevel, description` for admin users, and
 *   for oneself (Parley's decision: a user may see its own account data).
 */
export function userInfoView(viewer: User, target: User, friendship: Friendship | null): Record<string, unknown> {
  const self = viewer.id === target.id;
  const view: Record<string, unknown> = {
    id: String(target.id),
    sex: target.sex,
    name: target.nickname,
    avatar: target.avatar,
    isFriend: yesNo(friendship !== null),
  };
  if (self || sameCompany(viewer, target)) view.position = target.position;
  if (friendship) {
    view.noDisturbing = yesNo(friendship.noDisturbing);
    view.stickyOnTop = yesNo(friendship.stickyOnTop);
    view.addTime = friendship.addTime;
    view.remark = friendship.remark;
  }
  if (self || viewer.isAdmin) {
    view.com_id = target.companyId === null ? "" : String(target.companyId);
    view.uid = target.uid;
    view.account = accountOf(target);
    view.phone = target.mobile ?? "";
    view.email = target.email;
    view.verified = yesNo(target.verified);
    view.userLevel = target.level;
    view.description = target.description;
  }
  return view;
}
