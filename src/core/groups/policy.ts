import type { Group, GroupMember } from "../../ports/groups.ts";
import { ROLE_ADMIN, ROLE_MEMBER, ROLE_OWNER } from "../../ports/groups.ts";
import { forbidden, notFound } from "../errors.ts";

/**
 * Who may do what in a group — every rule of issue 11 in one place, as pure functions over the
 * actor's membership. Non-members see "not found" (`group_not_found`: chat33 -3001), never
 * "forbidden", so a group's existence does not leak; members without the role get
 * `group_no_permission` (chat33 -3000).
 */

export const notMember = () => notFound("group_not_found", "no such group, or you are not a member");
export const noPermission = (what: string) =>
  forbidden("group_no_permission", `only the owner or an admin may ${what}`);

export const isManager = (m: GroupMember | null): boolean => m !== null && m.role >= ROLE_ADMIN;
export const isOwner = (m: GroupMember | null): boolean => m !== null && m.role === ROLE_OWNER;

/** The actor must be a member of a live group. */
export function requireMember(g: Group | null, m: GroupMember | null): asserts m is GroupMember {
  if (!g || g.dissolvedAt !== null || !m) throw notMember();
}

/** Owner or admin: setPermission, kick, approve, mutes, rename, avatar, announcements. */
export function requireManager(g: Group | null, m: GroupMember | null, what: string): asserts m is GroupMember {
  requireMember(g, m);
  if (!isManager(m)) throw noPermission(what);
}

/** Owner only: dissolve, setLevel (the later chat33 server's rule). */
export function requireOwner(g: Group | null, m: GroupMember | null, what: string): asserts m is GroupMember {
  requireMember(g, m);
  if (!isOwner(m)) throw forbidden("group_no_permission", `only the owner may ${what}`);
}

/**
 * Kick: the actor's role must be above every target's (an admin removes members, the owner
 * removes admins and members; nobody removes the owner) — as in chat33's own server.
 */
export function canKick(actor: GroupMember, target: GroupMember): boolean {
  return actor.role >= ROLE_ADMIN && target.role < actor.role;
}

/** The owner cannot leave: they transfer ownership (setLevel 3) or dissolve first. */
export function requireMayLeave(m: GroupMember): void {
  if (m.role === ROLE_OWNER)
    throw forbidden("group_owner_cannot_leave", "the owner must transfer ownership or dissolve the group");
}

/**
 * Why a member may not speak now, or null. Owners and admins are never muted by the group;
 * per-member mutes apply to members; mute-all applies to members who are not exempt (chat33's
 * whitelist). The global mute (`/user/muted`) is the account's and checked beside this.
 */
export function speakProblem(g: Group, m: GroupMember, now: number): "member_muted" | "all_muted" | null {
  if (m.role >= ROLE_ADMIN) return null;
  if (m.mutedUntil > now) return "member_muted";
  if (g.muteAll && !m.speakExempt) return "all_muted";
  return null;
}

/** Mutes apply to plain members only (chat33's server refuses owners and admins as targets). */
export function requireMutable(target: GroupMember | null): asserts target is GroupMember {
  if (!target) throw notFound("group_member_not_found", "not a member of this group");
  if (target.role !== ROLE_MEMBER) throw forbidden("group_no_permission", "owners and admins cannot be muted");
}

/**
 * How an invitation by `inviter` proceeds: `join` at once (owner/admin, or a member of a free
 * group), `apply` (a member of a group that needs approval: a waiting application per invitee),
 * or refused (nobody but owner/admins brings anyone into a closed group).
 */
export function invitationMode(g: Group, inviter: GroupMember): "join" | "apply" {
  if (isManager(inviter)) return "join";
  if (g.joinPermission === 2) return "join";
  if (g.joinPermission === 1) return "apply";
  throw forbidden("group_closed", "this group admits nobody");
}
