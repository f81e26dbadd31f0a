import type { ErrorCode } from "../ports/errors.ts";

/**
 * The catalogue of error reasons: every `reason` an `AppError` may carry, with the core code it
 * is thrown with. `AppError` and the helpers in errors.ts accept only these (a typo or an
 * unlisted reason fails `tsc`), and each surface's code table is typed against this list; the
 * test test/reasons.test.ts checks that every reason gets a deliberate answer on every surface
 * (an explicit row, or the surface's documented fallback for its code).
 *
 * Adding a reason: add it here with its code (one line, in its group), then decide per surface
 * whether its code's fallback is the right answer or it needs a row of its own.
 */
export const Reasons = {
  // request shape (edge validation that goes beyond the schemas)
  missing_parameter: "invalid_argument",
  bad_mobile: "invalid_argument",
  bad_password: "invalid_argument",
  bad_avatar: "invalid_argument",
  bad_nickname: "invalid_argument",
  bad_username: "invalid_argument",
  bad_user: "invalid_argument",
  bad_text: "invalid_argument",
  bad_device: "invalid_argument",
  bad_apply_id: "invalid_argument",
  bad_log_id: "invalid_argument",
  bad_msg_id: "invalid_argument",

  // authentication and sessions
  missing_token: "unauthenticated",
  token_invalid: "unauthenticated",
  token_expired: "unauthenticated",
  session_revoked: "unauthenticated",
  session_replaced: "unauthenticated",
  bad_credentials: "unauthenticated",
  admin_required: "unauthenticated",
  user_disabled: "forbidden",
  not_admin: "forbidden",
  not_self: "forbidden",
  admin_session_not_found: "not_found",
  not_a_session: "invalid_argument",
  session_not_found: "not_found",

  // accounts and the organisation directory
  user_not_found: "not_found",
  user_exists: "conflict",
  company_not_found: "not_found",
  department_not_found: "not_found",
  role_not_found: "not_found",
  license_not_found: "not_found",
  company_in_use: "conflict",
  department_in_use: "conflict",
  role_in_use: "conflict",
  license_in_use: "conflict",
  dict_exists: "conflict",
  bad_company: "invalid_argument",
  bad_department: "invalid_argument",
  bad_role: "invalid_argument",
  bad_license: "invalid_argument",

  // rate limits
  login_limited: "rate_limited",
  isreg_limited: "rate_limited",
  sms_too_soon: "rate_limited",
  sms_daily_cap: "rate_limited",
  sms_ip_limit: "rate_limited",
  qr_rate_limited: "rate_limited",
  login_busy: "rate_limited",
  msg_rate_limited: "rate_limited",
  group_rate_limited: "rate_limited",
  chatroom_rate_limited: "rate_limited",

  // SMS codes
  captcha_wrong: "invalid_argument",
  captcha_expired: "invalid_argument",
  sms_failed: "unavailable",

  // QR login
  qr_invalid: "invalid_argument",
  qr_expired: "invalid_argument",
  qr_wrong_user: "forbidden",

  // friends
  self_operation: "invalid_argument",
  already_friends: "conflict",
  not_friends: "forbidden",
  request_handled: "conflict",
  request_not_found: "not_found",
  friend_blocked: "forbidden",
  bad_question: "invalid_argument",

  // messages and conversations
  user_muted: "forbidden",
  not_sender: "forbidden",
  recall_window: "forbidden",
  guest_no_send: "forbidden",
  no_system_permission: "forbidden",
  message_not_found: "not_found",
  conversation_not_found: "not_found",
  not_snap: "invalid_argument",
  snap_in_group: "invalid_argument",
  bad_forward: "invalid_argument",
  not_supported: "unavailable",
  group_not_found: "not_found",
  chatroom_not_found: "not_found",
  missing_file: "invalid_argument",
  file_kind_mismatch: "invalid_argument",
  bad_content: "invalid_argument",
  not_in_room: "forbidden",

  // chat rooms (core/chatrooms)
  chatroom_not_joined: "forbidden",
  chatroom_closed: "forbidden",
  chatroom_blacklisted: "forbidden",
  no_chatroom_permission: "forbidden",
  bad_shard_size: "invalid_argument",
  bad_duration: "invalid_argument",
  // groups (core Group = chat33 room; core/groups/policy.ts)
  group_no_permission: "forbidden",
  group_owner_cannot_leave: "forbidden",
  group_closed: "forbidden",
  group_blacklisted: "forbidden",
  group_no_add_friend: "forbidden",
  group_full: "invalid_argument",
  group_member_not_found: "not_found",
  group_already_member: "conflict",
  group_application_not_found: "not_found",
  group_application_handled: "conflict",
  bad_deadline: "invalid_argument",
  bad_capacity: "invalid_argument",

  // wallet and red packets (core/wallet; chat33 -4000…-4010)
  bad_coin: "invalid_argument",
  bad_amount: "invalid_argument",
  bad_packet_size: "invalid_argument",
  bad_packet_type: "invalid_argument",
  bad_idempotency_key: "invalid_argument",
  bad_date: "invalid_argument",
  insufficient_balance: "invalid_argument",
  balance_limit: "invalid_argument",
  idempotency_key_reused: "conflict",
  packet_not_found: "not_found",
  packet_finished: "conflict",
  packet_expired: "conflict",
  packet_claimed: "conflict",
  packet_mobile_pending: "conflict",
  packet_no_permission: "forbidden",
  packet_bad_mark: "invalid_argument",
  packet_user_registered: "conflict",
  packet_user_unregistered: "not_found",
  packet_rate_limited: "rate_limited",
  /** something unexpected failed in a red-packet route (chat33 -4000) */
  packet_internal: "internal",

  // files
  file_not_found: "not_found",
  file_empty: "invalid_argument",
  file_too_large: "invalid_argument",
  file_type_not_allowed: "invalid_argument",
  not_multipart: "invalid_argument",
  missing_upload: "invalid_argument",
  too_many_parts: "invalid_argument",
  bad_multipart: "invalid_argument",
  /** files.maxConcurrentUploads uploads are being received on this node */
  upload_busy: "unavailable",

  // push gateway
  system_id_missing: "invalid_argument",
  system_id_invalid: "invalid_argument",
  system_exists: "conflict",
  secret_mismatch: "unauthenticated",
  client_id_invalid: "invalid_argument",
  client_offline: "invalid_argument",

  // customer console (seed 004)
  bad_field: "invalid_argument",
  missing_field: "invalid_argument",
  missing_data: "invalid_argument",
  bad_data: "invalid_argument",
  too_many_rows: "invalid_argument",
  mixed_codes: "invalid_argument",
  customer_not_found: "not_found",
  customer_exists: "conflict",
  key_required: "forbidden",
  bad_key: "forbidden",

  // cluster plumbing (hub and node operations)
  unknown_op: "invalid_argument",
  node_timeout: "unavailable",
  node_unreachable: "unavailable",
  no_handler: "unavailable",
  hub_stopped: "unavailable",
  /** this node's fan-out of a topic stayed full for the whole admission wait (realtime/fanout.ts) */
  fanout_busy: "unavailable",
  /** Redis (hub, presence, rate-limit counters) did not answer: a restart or an outage */
  hub_unavailable: "unavailable",
  /** a storage transaction kept losing to concurrent updates (PostgreSQL SERIALIZABLE retries spent) */
  storage_contention: "unavailable",
  /** PostgreSQL could not be reached or went away mid-query (adapters/sql/errors.ts `isUnreachable`) */
  storage_unreachable: "unavailable",
  /** a remote node failed with something that was not an AppError */
  internal: "internal",
  // cluster-admin surface (seed 003)
  im_token_invalid: "unauthenticated",
  im_not_self: "forbidden",
  im_no_user: "not_found",
  im_no_session: "not_found",
  im_bad_parameter: "invalid_argument",
  im_no_node: "not_found",
  im_draining: "unavailable",
} as const satisfies Record<string, ErrorCode>;

export type Reason = keyof typeof Reasons;

/** The reasons thrown with core code `C` (what `invalid(…)`, `notFound(…)`, … accept). */
export type ReasonOf<C extends ErrorCode> = { [R in Reason]: (typeof Reasons)[R] extends C ? R : never }[Reason];

/** Every reason, for tests and docs. */
export const ALL_REASONS = Object.keys(Reasons) as Reason[];

/**
 * A surface's table of reason rows: partial on purpose — a reason without a row gets the
 * surface's answer for its code, which each surface keeps in a `Record<ErrorCode, …>` (total).
 */
export type ReasonTable<Row> = Readonly<Partial<Record<Reason, Row>>>;
