import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { invalid } from "../../core/errors.ts";
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

/** `POST /admin/api/wallet/deposit` (SPEC §7): funds an account; idempotent per key. */
export function walletRoutes(api: FastifyInstance, deps: AdminDeps): void {
  api.route<{ Body: Static<typeof DepositBody> }>({
    method: "POST",
    url: "/wallet/deposit",
    schema: {
      summary: "credit a user's wallet (idempotent per idempotencyKey)",
      tags: ["admin"],
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
