import type { Generated } from "kysely";

/** Row types of every table, as Kysely sees them. */
export interface SettingsTable {
  key: string;
  value: string;
}

export interface GatewaySystemsTable {
  system_id: string;
  secret_hash: string | null;
  created_at: number;
}

export interface Database {
  settings: SettingsTable;
  gateway_systems: GatewaySystemsTable;
  users: UsersTable;
  sessions: SessionsTable;
  sms_codes: SmsCodesTable;
  sms_outbox: SmsOutboxTable;
  companies: CompaniesTable;
  departments: DepartmentsTable;
  roles: RolesTable;
  licenses: LicensesTable;
  dict_entries: DictEntriesTable;
  qr_codes: QrCodesTable;
  conversations: ConversationsTable;
  messages: MessagesTable;
  read_cursors: ReadCursorsTable;
  friends: FriendsTable;
  friend_requests: FriendRequestsTable;
  files: FilesTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  group_applications: GroupApplicationsTable;
  group_blacklist: GroupBlacklistTable;
  friend_blocks: FriendBlocksTable;
  friend_rules: FriendRulesTable;
}

export interface UsersTable {
  id: Generated<number>;
  uid: string;
  mobile: string | null;
  username: string | null;
  password_hash: string;
  nickname: string;
  avatar: string;
  sex: number;
  position: string;
  description: string;
  email: string;
  birthday: string | null;
  sign: string | null;
  level: number;
  is_admin: number;
  verified: number;
  muted_until: number;
  company_id: number | null;
  dept_id: number | null;
  role_id: number | null;
  disabled: number;
  created_at: number;
  updated_at: number;
}

export interface SessionsTable {
  id: string;
  user_id: number;
  token_hash: string;
  device: string;
  device_id: string;
  platform: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  revoke_reason: string | null;
}

export interface SmsCodesTable {
  id: Generated<number>;
  mobile: string;
  code_hash: string;
  created_at: number;
  expires_at: number;
  attempts: number;
  used_at: number | null;
}

export interface SmsOutboxTable {
  id: Generated<number>;
  mobile: string;
  code: string;
  sent_at: number;
}

export interface CompaniesTable {
  id: Generated<number>;
  text: string;
  avatar: string;
  note: string;
  enable: number;
  license_id: number | null;
  code: string;
  pid: string;
  level: number;
  url: string;
  attrs: string;
  created_at: number;
}

export interface DepartmentsTable {
  id: Generated<number>;
  company_id: number;
  parent_id: number | null;
  text: string;
  note: string;
  code: string;
  owner_id: number | null;
  level: number;
  created_at: number;
}

export interface RolesTable {
  id: Generated<number>;
  company_id: number;
  text: string;
  admin: number;
  note: string;
}

export interface LicensesTable {
  id: Generated<number>;
  text: string;
  maxlevel: number;
  single: number;
  user_count: number;
}

export interface DictEntriesTable {
  id: Generated<number>;
  type: string;
  text: string;
  code: string;
  url: string | null;
}

export interface QrCodesTable {
  code_hash: string;
  kind: string;
  device_id: string;
  platform: string;
  target_id: string;
  created_by: number | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface ConversationsTable {
  id: Generated<number>;
  kind: string;
  key: string;
  user_a: number | null;
  user_b: number | null;
  last_seq: number;
  last_message_at: number;
  created_at: number;
}

export interface MessagesTable {
  id: Generated<number>;
  conversation_id: number;
  seq: number;
  sender_id: number;
  client_msg_id: string;
  kind: string;
  content: string;
  created_at: number;
  recalled_at: number | null;
  deleted_at: number | null;
  /** 1 = burn after reading (chat33 `isSnap` 1); migration 0011. */
  snap: Generated<number>;
  /** The client's `ext` as JSON text, or null; migration 0011. */
  ext: string | null;
}

export interface ReadCursorsTable {
  conversation_id: number;
  user_id: number;
  seq: number;
  updated_at: number;
}

export interface FriendsTable {
  user_id: number;
  friend_id: number;
  remark: string;
  no_disturbing: number;
  sticky_on_top: number;
  commonly_used: number;
  added_at: number;
  deleted_at: number | null;
  updated_at: number;
  /** chat33 `/friend/setExtRemark` (JSON text, "" = none); migration 0011. */
  ext_remark: Generated<string>;
}

export interface FriendRequestsTable {
  id: Generated<number>;
  from_id: number;
  to_id: number;
  reason: string;
  remark: string;
  room_id: string | null;
  status: number;
  created_at: number;
  updated_at: number;
}

export interface FilesTable {
  id: Generated<number>;
  owner_id: number;
  sha256: string;
  thumb_sha256: string | null;
  thumb_mime: string | null;
  name: string;
  mime: string;
  size: number;
  width: number | null;
  height: number | null;
  created_at: number;
}

export interface GroupsTable {
  id: Generated<number>;
  mark_id: string;
  name: string;
  avatar: string;
  owner_id: number;
  can_add_friend: number;
  join_permission: number;
  capacity: number;
  mute_all: number;
  conversation_id: number;
  created_at: number;
  updated_at: number;
  dissolved_at: number | null;
}

export interface GroupMembersTable {
  group_id: number;
  user_id: number;
  role: number;
  nickname: string;
  no_disturbing: number;
  sticky_on_top: number;
  muted_until: number;
  speak_exempt: number;
  joined_at: number;
}

export interface GroupApplicationsTable {
  id: Generated<number>;
  group_id: number;
  user_id: number;
  inviter_id: number | null;
  reason: string;
  status: number;
  handled_by: number | null;
  created_at: number;
  updated_at: number;
}

export interface GroupBlacklistTable {
  group_id: number;
  user_id: number;
  created_at: number;
}

/** `user_id` blocked `blocked_id` (chat33 `/friend/block`): the blocked user cannot message them. */
export interface FriendBlocksTable {
  user_id: number;
  blocked_id: number;
  created_at: number;
}

/** A user's friend-request rules (chat33 `/friend/confirm`, `/friend/question`); no row = defaults. */
export interface FriendRulesTable {
  user_id: number;
  need_confirm: number;
  need_answer: number;
  question: string;
  answer: string;
  updated_at: number;
}
