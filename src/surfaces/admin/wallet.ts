import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { invalid, notFound } from "../../core/errors.ts";
import { MAX_UNITS, unitsToWire, wireToUnits } from "../../core/wallet/amount.ts";
import { MAX_IDEMPOTENCY_KEY } from "../../core/wallet/wallet-service.ts";
import type { AdminDeps } from "./deps.ts";
import { ok } from "./envelope.ts";
import { envelope } from "./schemas.ts";

const DepositBody = Type.Object(
  {
    userId: Type.String({ minLength: 1, maxLength: 20, pattern: "^[1-9][0-9]*$", description: "the user's id" }),
    coin: Type.Integer({ minimum: 1, maximum: 999999999, description: "a configured coin (wallet.coins)" }),
    amount: Type.Union(
      [Type.Number({ minimum: 1e-8, maximum: MAX_UNITS / 1e8 }), Type.String({ minLength: 1, maxLength: 40 })],
      {
        description: "coins to credit, at most 8 decimals",
      },
    ),
    idempotencyKey: Type.String({
      minLength: 1,
      maxLength: MAX_IDEMPOTENCY_KEY,
      description: "the same key again changes nothing and answers the first result",
    }),
  },
  { additionalProperties: false },
);

const DepositOut = Type.Object({
  userId: Type.String(),
  coin: Type.Integer(),
  amount: Type.Number(),
  balance: Type.Number({ description: "the user's balance of the coin right after this deposit" }),
  replay: Type.Boolean({ description: "true: the key was used before; nothing changed" }),
});

const strict = { additionalProperties: false };
const QueryUserId = Type.String({ pattern: "^[1-9][0-9]{0,14}$", description: "user id" });
const CoinId = Type.Integer({ minimum: 1, maximum: 999999999, description: "a configured coin" });

const LedgerQuery = Type.Object(
  {
    userId: Type.Optional(QueryUserId),
    account: Type.Optional(
      Type.String({
        pattern: "^(u:[1-9][0-9]{0,14}|p:[A-Za-z0-9-]{1,64}|sys:deposits)$",
        description: "u:<userId>, p:<packetId> (a packet's escrow) or sys:deposits",
        examples: ["u:7"],
      }),
    ),
    coin: Type.Optional(CoinId),
    reason: Type.Optional(
      Type.Union([Type.Literal("deposit"), Type.Literal("escrow"), Type.Literal("claim"), Type.Literal("refund")]),
    ),
    beforeId: Type.Optional(
      Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: "next page: rows with a smaller id" }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  },
  strict,
);
const LedgerOut = Type.Object({
  id: Type.Integer(),
  entryId: Type.String({ description: "the two rows of one movement share it" }),
  account: Type.String(),
  userId: Type.Union([Type.String(), Type.Null()], { description: "for u:<id> accounts" }),
  coin: Type.Integer(),
  amount: Type.Number({ description: "coins, signed (credit > 0)" }),
  reason: Type.String({ description: "deposit | escrow | claim | refund" }),
  ref: Type.String({ description: "idempotency key (deposit) or packet id" }),
  createdAt: Type.Integer(),
});
const PacketsQuery = Type.Object(
  {
    senderId: Type.Optional(QueryUserId),
    coin: Type.Optional(CoinId),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
    size: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 20 })),
  },
  strict,
);
const PacketOut = Type.Object({
  id: Type.String(),
  senderId: Type.String(),
  senderName: Type.String(),
  coin: Type.Integer(),
  type: Type.Integer({ description: "1 random, 2 equal" }),
  amount: Type.Number(),
  size: Type.Integer(),
  remark: Type.String(),
  target: Type.String({ description: "friend | group" }),
  toId: Type.String(),
  messageId: Type.String(),
  createdAt: Type.Integer(),
  expiresAt: Type.Integer(),
  settledAt: Type.Union([Type.Integer(), Type.Null()]),
  claimed: Type.Integer(),
  claimedAmount: Type.Number(),
  refunded: Type.Integer(),
  refundedAmount: Type.Number(),
});
const ShareOut = Type.Object({
  idx: Type.Integer(),
  amount: Type.Number(),
  state: Type.String({ description: "open | held | pending | claimed | refunded" }),
  claimerId: Type.Union([Type.String(), Type.Null()]),
  claimedAt: Type.Union([Type.Integer(), Type.Null()]),
  mobile: Type.Union([Type.String(), Type.Null()], { description: "a guest's mobile (pending / claimed)" }),
});
const PacketIdQuery = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9-]+$", description: "packet id" }) },
  strict,
);
const BalancesQuery = Type.Object({ userId: QueryUserId }, strict);

/**
 * The wallet for operators (SPEC §7, docs/admin.md "Money"): deposits (idempotent per key), the
 * ledger and the red packets to browse, a user's balances, and the ledger check.
 */
export function walletRoutes(api: FastifyInstance, deps: AdminDeps): void {
  const { wallet, accounts } = deps;
  const tags = ["admin: money"];
  const presentPacket = async (r: Awaited<ReturnType<typeof wallet.packetsPage>>["list"][number]) => {
    const p = r.packet;
    const sender = await accounts.cachedUser(p.senderId);
    return {
      id: p.id,
      senderId: String(p.senderId),
      senderName: sender?.nickname ?? "",
      coin: p.coin,
      type: p.type,
      amount: unitsToWire(p.amount),
      size: p.size,
      remark: p.remark,
      target: p.cType === 1 ? "group" : "friend",
      toId: String(p.toId),
      messageId: String(p.messageId),
      createdAt: p.createdAt,
      expiresAt: p.expiresAt,
      settledAt: p.settledAt,
      claimed: r.claimed,
      claimedAmount: unitsToWire(r.claimedAmount),
      refunded: r.refunded,
      refundedAmount: unitsToWire(r.refundedAmount),
    };
  };

  api.route({
    method: "GET",
    url: "/wallet/coins",
    schema: {
      summary: "the configured coins (wallet.coins)",
      tags,
      response: { 200: envelope(Type.Array(Type.Object({ id: Type.Integer(), name: Type.String() }))) },
    },
    handler: async () => ok(wallet.coins.map((c) => ({ id: c.id, name: c.name }))),
  });

  api.route<{ Querystring: Static<typeof BalancesQuery> }>({
    method: "GET",
    url: "/wallet/balances",
    schema: {
      summary: "a user's balance of every configured coin",
      tags,
      querystring: BalancesQuery,
      response: {
        200: envelope(Type.Array(Type.Object({ coin: Type.Integer(), name: Type.String(), balance: Type.Number() }))),
      },
    },
    handler: async (req) => {
      const id = Number(req.query.userId);
      if (!(await accounts.findUser(id))) throw notFound("user_not_found", "user does not exist");
      return ok(
        (await wallet.balancesOf(id)).map((b) => ({
          coin: b.coin.id,
          name: b.coin.name,
          balance: unitsToWire(b.units),
        })),
      );
    },
  });

  api.route<{ Querystring: Static<typeof LedgerQuery> }>({
    method: "GET",
    url: "/wallet/ledger",
    schema: {
      summary: "ledger rows newest first (page on with beforeId = the last id)",
      tags,
      querystring: LedgerQuery,
      response: {
        200: envelope(
          Type.Object({ list: Type.Array(LedgerOut), nextBeforeId: Type.Union([Type.Integer(), Type.Null()]) }),
        ),
      },
    },
    handler: async (req) => {
      const { userId, account, coin, reason, beforeId, limit = 50 } = req.query;
      if (userId !== undefined && account !== undefined && account !== `u:${userId}`)
        throw invalid("missing_parameter", "give userId or account, not both");
      const rows = await wallet.ledgerPage({
        account: userId !== undefined ? `u:${userId}` : account,
        coin,
        reason,
        beforeId,
        limit,
      });
      const last = rows[rows.length - 1];
      return ok({
        list: rows.map((r) => ({
          id: r.id,
          entryId: r.entryId,
          account: r.account,
          userId: r.account.startsWith("u:") ? r.account.slice(2) : null,
          coin: r.coin,
          amount: r.amount < 0 ? -unitsToWire(-r.amount) : unitsToWire(r.amount),
          reason: r.reason,
          ref: r.ref,
          createdAt: r.createdAt,
        })),
        nextBeforeId: rows.length === limit && last ? last.id : null,
      });
    },
  });

  api.route<{ Querystring: Static<typeof PacketsQuery> }>({
    method: "GET",
    url: "/wallet/packets",
    schema: {
      summary: "red packets newest first, with claimed and refunded shares",
      tags,
      querystring: PacketsQuery,
      response: { 200: envelope(Type.Object({ total: Type.Integer(), list: Type.Array(PacketOut) })) },
    },
    handler: async (req) => {
      const { senderId, coin, page = 1, size = 20 } = req.query;
      const r = await wallet.packetsPage({
        senderId: senderId === undefined ? undefined : Number(senderId),
        coin,
        offset: (page - 1) * size,
        limit: size,
      });
      return ok({ total: r.total, list: await Promise.all(r.list.map(presentPacket)) });
    },
  });

  api.route<{ Querystring: Static<typeof PacketIdQuery> }>({
    method: "GET",
    url: "/wallet/packets/detail",
    schema: {
      summary: "one red packet with every share",
      tags,
      querystring: PacketIdQuery,
      response: { 200: envelope(Type.Object({ packet: PacketOut, shares: Type.Array(ShareOut) })) },
    },
    handler: async (req) => {
      const found = await wallet.packetWithShares(req.query.id);
      if (!found) throw notFound("packet_not_found", "red packet does not exist");
      const sum = (state: string) => found.shares.filter((x) => x.state === state);
      const claimed = sum("claimed");
      const refunded = sum("refunded");
      return ok({
        packet: await presentPacket({
          packet: found.packet,
          claimed: claimed.length,
          claimedAmount: claimed.reduce((n, x) => n + x.amount, 0),
          refunded: refunded.length,
          refundedAmount: refunded.reduce((n, x) => n + x.amount, 0),
        }),
        shares: found.shares.map((x) => ({
          idx: x.idx,
          amount: unitsToWire(x.amount),
          state: x.state,
          claimerId: x.claimerId === null ? null : String(x.claimerId),
          claimedAt: x.claimedAt,
          mobile: x.mobile,
        })),
      });
    },
  });

  api.route({
    method: "POST",
    url: "/wallet/verify",
    schema: {
      summary: "run the ledger check (as `parley wallet verify`): every invariant recomputed",
      tags,
      response: {
        200: envelope(
          Type.Object({
            ok: Type.Boolean(),
            issues: Type.Array(Type.Object({ check: Type.String(), detail: Type.String() })),
            checkedAt: Type.Integer(),
            durationMs: Type.Integer(),
          }),
        ),
      },
    },
    handler: async () => {
      const start = Date.now();
      const issues = await wallet.verify();
      return ok({ ok: issues.length === 0, issues, checkedAt: start, durationMs: Date.now() - start });
    },
  });

  api.route<{ Body: Static<typeof DepositBody> }>({
    method: "POST",
    url: "/wallet/deposit",
    schema: {
      summary: "credit a user's wallet (idempotent per idempotencyKey)",
      tags,
      body: DepositBody,
      response: { 200: envelope(DepositOut) },
    },
    handler: async (req) => {
      const { userId, coin, amount, idempotencyKey } = req.body;
      const units = wireToUnits(amount);
      if (units === null) throw invalid("bad_amount", "amount must be positive with at most 8 decimals");
      const r = await deps.wallet.deposit(Number(userId), coin, units, idempotencyKey);
      return ok({
        userId: String(r.userId),
        coin: r.coin,
        amount: unitsToWire(r.amount),
        balance: unitsToWire(r.balance),
        replay: r.replay,
      });
    },
  });
}
