import type { Static } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AppError, invalid, notFound } from "../../core/errors.ts";
import { unitsToWire, wireToUnits } from "../../core/wallet/amount.ts";
import type { RedPacket, Share } from "../../ports/storage.ts";
import { headerValue, readCredentials, requireUser } from "./auth.ts";
import type { Chat33Deps } from "./deps.ts";
import { postRoute } from "./http.ts";
import { parseId } from "./ids.ts";
import {
  BalanceData,
  DetailData,
  EntryBody,
  EntryData,
  PacketIdBody,
  ReceiveData,
  ReceiveEntryData,
  ReceiveRecordData,
  RecordBody,
  RecordData,
  RegisterEntryBody,
  RegisterEntryData,
  SendBody,
  SendData,
  SendRecordData,
} from "./red-packet-schemas.ts";
import { NoBody } from "./schemas.ts";

/** Where the packet page lives, under the surface's mount (packetUrl; the seed's `/packets/…/open.html?id=`). */
export const PACKET_PAGE = "/packets/pages/open.html";

/** The packet page's address: absolute under `publicUrl` when it is set, else a path on this server. */
export function packetUrl(deps: Pick<Chat33Deps, "config" | "mount">, id: string): string {
  const base = deps.config.publicUrl.replace(/\/+$/, "");
  return `${base}${deps.mount}${PACKET_PAGE}?id=${encodeURIComponent(id)}`;
}

const GUEST_RE = /^[\x21-\x7e]{1,64}$/;

/** The guest's device id (`FZM-UUID`), or its address when it sends none. */
function guestId(req: FastifyRequest): string {
  const uuid = headerValue(req.headers, "fzm-uuid");
  if (uuid !== undefined && uuid !== "") {
    if (!GUEST_RE.test(uuid)) throw invalid("bad_user", "FZM-UUID must be 1..64 printable characters");
    return `g:${uuid}`;
  }
  return `ip:${req.ip}`;
}

/** The packet's `coin` query parameter: optional, default 1 (BTY) as the document says. */
const coinOr1 = (coin: number | undefined) => coin ?? 1;

const receiveItem = (share: Share, packet: RedPacket, username: string) => ({
  red_packet_id: packet.id,
  type: packet.type,
  amount: unitsToWire(share.amount),
  receive_time: share.claimedAt ?? 0,
  coin: packet.coin,
  username,
});
const sendItem = (p: RedPacket) => ({
  red_packet_id: p.id,
  type: p.type,
  amount: unitsToWire(p.amount),
  send_time: p.createdAt,
  coin: p.coin,
});

/**
 * The red-packet routes (seed 002 红包接口类, `/red-packet/send` from chat33's own server):
 * docs/red-packets.md. Every handler only translates: the rules, membership checks included, are
 * in core (RedPacketService, WalletService). Something unexpected is `-4000 红包内部错误`.
 */
export function redPacketRoutes(api: FastifyInstance, deps: Chat33Deps): void {
  const { accounts, wallet, redPackets } = deps;
  const me = async (req: FastifyRequest) => (await requireUser(accounts, req.headers)).user;
  /** Unexpected failures answer -4000 (logged); AppErrors keep their own answer. */
  const guarded =
    <B>(fn: (req: FastifyRequest<{ Body: B }>) => Promise<unknown>) =>
    async (req: FastifyRequest<{ Body: B }>) => {
      try {
        return await fn(req);
      } catch (e) {
        if (e instanceof AppError) throw e;
        req.log.error({ err: e }, "red-packet route failed");
        throw new AppError("internal", "packet_internal", "red packet internal error");
      }
    };

  postRoute<Static<typeof NoBody>>(api, {
    path: "/red-packet/balance",
    summary: "查询账号余额 — the caller's balance of every configured coin",
    body: NoBody,
    data: BalanceData,
    handler: guarded(async (req) => {
      const user = await me(req);
      const list = await wallet.balances(user);
      return { balances: list.map((b) => ({ coin: b.coin.id, amount: unitsToWire(b.units) })) };
    }),
  });

  postRoute<Static<typeof SendBody>>(api, {
    path: "/red-packet/send",
    summary:
      "发红包 — cType 0 friend / 1 group, type 1 random / 2 equal; debits, escrows and posts a msgType 4 message in one transaction",
    body: SendBody,
    data: SendData,
    handler: guarded(async (req) => {
      const user = await me(req);
      const b = req.body;
      const amount = wireToUnits(b.amount);
      if (amount === null) throw invalid("bad_amount", "amount must be positive with at most 8 decimals");
      const toId = typeof b.toId === "number" ? b.toId : parseId(b.toId);
      if (toId === null)
        throw b.cType === 0 ? notFound("user_not_found", "no such user") : notFound("group_not_found", "no such group");
      const sent = await redPackets.send(
        user,
        {
          cType: b.cType as 0 | 1,
          toId,
          coin: b.coin,
          type: b.type as 1 | 2,
          amount,
          size: b.size,
          remark: b.remark ?? "",
        },
        (id) => packetUrl(deps, id),
      );
      return {
        packetId: sent.packet.id,
        packetType: sent.packet.type,
        packetUrl: sent.packetUrl,
        coin: sent.packet.coin,
        remark: sent.packet.remark,
      };
    }),
  });

  postRoute<Static<typeof PacketIdBody>>(api, {
    path: "/red-packet/receive-entry",
    summary: "(已登录用户)收红包 — a member of the packet's conversation claims one share, credited at once",
    body: PacketIdBody,
    data: ReceiveEntryData,
    handler: guarded(async (req) => {
      const user = await me(req);
      const got = await redPackets.claim(user, req.body.packet_id);
      return {
        amount: unitsToWire(got.share.amount),
        total: got.packet.size,
        remain: got.remain,
        coin: got.packet.coin,
      };
    }),
  });

  postRoute<Static<typeof PacketIdBody>>(api, {
    path: "/red-packet/receive",
    summary: "(未登录用户)收红包 — whoever holds the link reserves a share; the mark is held for wallet.guestHoldMs",
    body: PacketIdBody,
    data: ReceiveData,
    handler: guarded(async (req) => {
      const got = await redPackets.reserve(req.body.packet_id, guestId(req), req.ip);
      return {
        mark: got.share.mark ?? "",
        amount: unitsToWire(got.share.amount),
        total: got.packet.size,
        remain: got.remain,
      };
    }),
  });

  postRoute<Static<typeof EntryBody>>(api, {
    path: "/red-packet/entry",
    summary:
      "(未登录用户)收红包入账 — attach a reserved share to a mobile: registered → credited (recv_type 1), else waits (2)",
    body: EntryBody,
    data: EntryData,
    handler: guarded(async (req) => {
      const r = await redPackets.enter(req.body.mark, req.body.account, req.ip);
      return {
        packet_id: r.packet.id,
        amount: unitsToWire(r.share.amount),
        mark: r.recvType === 1 ? "" : req.body.mark,
        coin: r.packet.coin,
        recv_type: r.recvType,
        message: r.recvType === 1 ? "领取成功，已存入账户" : "该手机号未注册，注册后即可领取",
      };
    }),
  });

  postRoute<Static<typeof RegisterEntryBody>>(api, {
    path: "/red-packet/register-entry",
    summary:
      "(未登录用户)注册领取红包 — register the waiting mobile with its SMS code (/send/sms) and receive the share",
    body: RegisterEntryBody,
    data: RegisterEntryData,
    handler: guarded(async (req) => {
      const b = req.body;
      const r = await redPackets.registerEntry(b.mark, b.account, b.password, b.captcha, req.ip);
      return {
        packet_id: r.packet.id,
        red_packet_id: r.packet.id,
        amount: unitsToWire(r.share.amount),
        mobile: b.account,
        coin: r.packet.coin,
        uid: r.user.uid,
      };
    }),
  });

  postRoute<Static<typeof PacketIdBody>>(api, {
    path: "/red-packet/detail",
    summary: "红包详情 (extension) — the packet and what is left; its claims for members of its conversation",
    body: PacketIdBody,
    data: DetailData,
    handler: guarded(async (req) => {
      // a session is optional: guests see the packet without its claims
      const viewer = readCredentials(req.headers).token ? await me(req) : null;
      const d = await redPackets.detail(viewer, req.body.packet_id);
      const p = d.packet;
      return {
        packet_id: p.id,
        coin: p.coin,
        type: p.type,
        amount: unitsToWire(p.amount),
        size: p.size,
        remain: d.remain,
        remain_amount: d.remainUnits ? unitsToWire(d.remainUnits) : 0,
        remark: p.remark,
        status: d.status,
        sender_id: String(p.senderId),
        sender_name: d.sender?.nickname ?? "",
        sender_avatar: d.sender?.avatar ?? "",
        send_time: p.createdAt,
        expire_time: p.expiresAt,
        my_amount: d.mine ? unitsToWire(d.mine.amount) : 0,
        receive: (d.claims ?? []).map((c) => ({
          uid: String(c.share.claimerId ?? ""),
          username: c.user?.nickname ?? "",
          avatar: c.user?.avatar ?? "",
          amount: unitsToWire(c.share.amount),
          receive_time: c.share.claimedAt ?? 0,
        })),
      };
    }),
  });

  const sum = (units: number) => (units ? unitsToWire(units) : 0);

  postRoute<Static<typeof RecordBody>>(api, {
    path: "/red-packet/record",
    summary: "查询用户红包收发记录 — received and sent in a month (2018-08) or year (2018)",
    body: RecordBody,
    data: RecordData,
    handler: guarded(async (req) => {
      const user = await me(req);
      const coin = coinOr1(req.body.coin);
      const [got, sent] = await Promise.all([
        redPackets.received(user, coin, req.body.date),
        redPackets.sent(user, coin, req.body.date),
      ]);
      return {
        receive_num: got.total,
        receive_amount: sum(got.amount),
        send_num: sent.total,
        send_amount: sum(sent.amount),
        receive: got.list.map((x) => receiveItem(x.share, x.packet, x.sender?.nickname ?? "")),
        send: sent.list.map(sendItem),
      };
    }),
  });

  postRoute<Static<typeof RecordBody>>(api, {
    path: "/red-packet/receive-record",
    summary: "查询用户红包领取记录 — received in a month (2018-08) or year (2018)",
    body: RecordBody,
    data: ReceiveRecordData,
    handler: guarded(async (req) => {
      const user = await me(req);
      const got = await redPackets.received(user, coinOr1(req.body.coin), req.body.date);
      return {
        totalnum: got.total,
        total_amount: sum(got.amount),
        receive: got.list.map((x) => receiveItem(x.share, x.packet, x.sender?.nickname ?? "")),
      };
    }),
  });

  postRoute<Static<typeof RecordBody>>(api, {
    path: "/red-packet/send-record",
    summary: "查询用户发放红包记录 — sent in a month (2018-08) or year (2018)",
    body: RecordBody,
    data: SendRecordData,
    handler: guarded(async (req) => {
      const user = await me(req);
      const sent = await redPackets.sent(user, coinOr1(req.body.coin), req.body.date);
      return { totalnum: sent.total, total_amount: sum(sent.amount), send: sent.list.map(sendItem) };
    }),
  });
}
