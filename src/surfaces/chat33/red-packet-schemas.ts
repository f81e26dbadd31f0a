import { Type } from "@sinclair/typebox";
import { MAX_UNITS } from "../../core/wallet/amount.ts";
import { REMARK_MAX } from "../../core/wallet/red-packet-service.ts";
import { Mobile } from "./schemas.ts";

/**
 * Request and answer schemas of the red-packet routes (seed 002 红包接口类, and `/red-packet/send`
 * as chat33's own server has it). Amounts are JSON numbers (or decimal strings) on the wire and
 * integer units inside (core/wallet/amount.ts); the route converts them exactly or refuses them.
 */

const Amount = Type.Union(
  [Type.Number({ minimum: 1e-8, maximum: MAX_UNITS / 1e8 }), Type.String({ minLength: 1, maxLength: 40 })],
  {
    description: "amount in coins: a number (or decimal string) with at most 8 decimals",
  },
);
const PacketId = Type.String({ minLength: 1, maxLength: 64, description: "red packet id" });
const Mark = Type.String({
  minLength: 1,
  maxLength: 64,
  description: "the reserved share's mark (/red-packet/receive)",
});
const Coin = Type.Integer({ minimum: 1, maximum: 999999999, description: "coin id (1 BTY, 2 YCC by default)" });
const Float = (description: string) => Type.Number({ description });

export const SendBody = Type.Object({
  cType: Type.Integer({ minimum: 0, maximum: 1, description: "0 friend, 1 group (chat33's own server numbering)" }),
  toId: Type.Union(
    [Type.String({ minLength: 1, maxLength: 32 }), Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })],
    {
      description: "the friend's user id or the group id",
    },
  ),
  coin: Coin,
  type: Type.Integer({ minimum: 1, maximum: 2, description: "1 random (拼手气), 2 equal (普通)" }),
  amount: Amount,
  size: Type.Integer({ minimum: 1, maximum: 1_000_000, description: "number of shares (at most wallet.maxShares)" }),
  remark: Type.Optional(Type.String({ maxLength: REMARK_MAX * 2, description: `at most ${REMARK_MAX} characters` })),
});
export const SendData = Type.Object({
  packetId: Type.String(),
  packetType: Type.Integer(),
  packetUrl: Type.String(),
  coin: Type.Integer(),
  remark: Type.String(),
});

export const PacketIdBody = Type.Object({ packet_id: PacketId });
export const ReceiveEntryData = Type.Object({
  amount: Float("amount received"),
  total: Type.Integer({ description: "number of shares" }),
  remain: Type.Integer({ description: "shares left" }),
  coin: Type.Integer(),
});
export const ReceiveData = Type.Object({
  mark: Type.String(),
  amount: Float("amount reserved"),
  total: Type.Integer(),
  remain: Type.Integer(),
});

export const EntryBody = Type.Object({ mark: Mark, account: Mobile });
export const EntryData = Type.Object({
  packet_id: Type.String(),
  amount: Float("amount"),
  mark: Type.String({ description: "empty when an existing user was credited" }),
  coin: Type.Integer(),
  recv_type: Type.Integer({ description: "1 credited to an existing user, 2 waits for register-entry" }),
  message: Type.String(),
});

export const RegisterEntryBody = Type.Object({
  mark: Mark,
  account: Mobile,
  password: Type.String({ minLength: 1, maxLength: 128 }),
  captcha: Type.String({ minLength: 1, maxLength: 16 }),
});
export const RegisterEntryData = Type.Object({
  packet_id: Type.String(),
  red_packet_id: Type.String({ description: "the same id, as the document's example names it" }),
  amount: Float("amount"),
  mobile: Type.String(),
  coin: Type.Integer(),
  uid: Type.String(),
});

export const BalanceData = Type.Object({
  balances: Type.Array(Type.Object({ coin: Type.Integer(), amount: Float("balance") })),
});

const Claim = Type.Object({
  uid: Type.String(),
  username: Type.String(),
  avatar: Type.String(),
  amount: Float("amount"),
  receive_time: Type.Integer({ description: "ms" }),
});
export const DetailData = Type.Object({
  packet_id: Type.String(),
  coin: Type.Integer(),
  type: Type.Integer(),
  amount: Float("total amount"),
  size: Type.Integer(),
  remain: Type.Integer(),
  remain_amount: Float("amount not yet claimed"),
  remark: Type.String(),
  status: Type.Integer({ description: "1 open, 2 all claimed, 3 expired (the rest refunded)" }),
  sender_id: Type.String(),
  sender_name: Type.String(),
  sender_avatar: Type.String(),
  send_time: Type.Integer({ description: "ms" }),
  expire_time: Type.Integer({ description: "ms" }),
  my_amount: Float("what the caller received (0: nothing)"),
  receive: Type.Array(Claim, { description: "claims, oldest first (members of the conversation only)" }),
});

export const RecordBody = Type.Object({
  date: Type.String({ minLength: 1, maxLength: 7, description: "2018-08 or 2018" }),
  coin: Type.Optional(Coin),
});
const ReceiveItem = Type.Object({
  red_packet_id: Type.String(),
  type: Type.Integer(),
  amount: Float("amount"),
  receive_time: Type.Integer(),
  coin: Type.Integer(),
  username: Type.String(),
});
const SendItem = Type.Object({
  red_packet_id: Type.String(),
  type: Type.Integer(),
  amount: Float("amount"),
  send_time: Type.Integer(),
  coin: Type.Integer(),
});
export const RecordData = Type.Object({
  receive_num: Type.Integer(),
  receive_amount: Float("sum"),
  send_num: Type.Integer(),
  send_amount: Float("sum"),
  receive: Type.Array(ReceiveItem),
  send: Type.Array(SendItem),
});
export const ReceiveRecordData = Type.Object({
  totalnum: Type.Integer(),
  total_amount: Float("sum"),
  receive: Type.Array(ReceiveItem),
});
export const SendRecordData = Type.Object({
  totalnum: Type.Integer(),
  total_amount: Float("sum"),
  send: Type.Array(SendItem),
});
