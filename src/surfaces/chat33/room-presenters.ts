import type { MemberView } from "../../core/groups/group-service.ts";
import type { Group, GroupApplication, GroupMember } from "../../ports/groups.ts";
import type { User } from "../../ports/storage.ts";
import { cardView } from "./friend-presenters.ts";
import { yesNo } from "./presenters.ts";

/** A group member as every `/room/*` member list shows it. */
export const memberView = ({ member, user }: MemberView) => ({
  id: String(user.id),
  nickname: user.nickname,
  roomNickname: member.nickname,
  avatar: user.avatar,
  memberLevel: member.role,
});

/** One entry of `/room/list`. Parley keeps no 常用 flag for groups: every group is 普通 (1). */
export const roomListItem = (g: Group, m: GroupMember) => ({
  id: String(g.id),
  markId: g.markId,
  name: g.name,
  avatar: g.avatar,
  noDisturbing: yesNo(m.noDisturbing),
  commonlyUsed: 1,
  onTop: yesNo(m.stickyOnTop),
});

/** `mutedType` (extension, the later server's listType): 1 everyone speaks, 3 whitelist, 4 all muted. */
export const mutedType = (g: Group, members: readonly MemberView[]): number =>
  !g.muteAll ? 1 : members.some((m) => m.member.speakExempt) ? 3 : 4;

/** The group card of `/chat33/search` (`roomInfo`). */
export const roomCard = (g: Group) => ({
  id: String(g.id),
  markId: g.markId,
  name: g.name,
  avatar: g.avatar,
  canAddFriend: yesNo(g.canAddFriend),
  joinPermission: g.joinPermission,
});

/**
 * One group application in `/chat33/applyList` and `/room/joinInRoomApplyList` (`type: 1`):
 * `senderInfo` is the applicant (or invitee), `receiveInfo` the group.
 */
export function groupApplyItem(viewer: User, a: GroupApplication, applicant: User, g: Group) {
  return {
    senderInfo: cardView(viewer, applicant),
    receiveInfo: { id: String(g.id), name: g.name, avatar: g.avatar, position: "" },
    id: a.id,
    type: 1,
    applyReason: a.reason,
    status: a.status,
    datetime: a.updatedAt,
  };
}
