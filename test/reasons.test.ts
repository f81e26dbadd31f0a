import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AppError, type ErrorCode, ErrorCodes } from "../src/core/errors.ts";
import { ALL_REASONS, type Reason, Reasons } from "../src/core/reasons.ts";
import { fromAppError as adminAnswer } from "../src/surfaces/admin/envelope.ts";
import { fromAppError as chat33Answer, MAPPED_REASONS as chat33Rows } from "../src/surfaces/chat33/envelope.ts";
import { fromAppError as consoleAnswer } from "../src/surfaces/console/index.ts";
import {
  fromAppError as enterpriseAnswer,
  MAPPED_REASONS as enterpriseRows,
} from "../src/surfaces/enterprise/envelope.ts";
import { fromAppError as gatewayAnswer, MAPPED_REASONS as gatewayRows } from "../src/surfaces/gateway/envelope.ts";

/**
 * Every reason of the catalogue (src/core/reasons.ts) gets a deliberate answer on every surface:
 * either the surface's own row, or its fallback for the reason's code — and the fallback is never
 * the "internal error" answer for a code that is not `internal`.
 */
type Answer = { status: number; body: unknown };
interface Surface {
  name: string;
  answer(e: AppError): Answer;
  rows: readonly Reason[];
  /** The surface's internal-error answer (what a bug looks like there). */
  internal: Answer;
}

const probe = (reason: Reason, message = "core message for the client") =>
  new AppError(Reasons[reason], reason, message);

// an error with a reason outside the catalogue (a node of another version) exercises the pure fallback
const byCode = (code: ErrorCode) => new AppError(code, "not_in_the_catalogue" as Reason, "core message for the client");

const SURFACES: Surface[] = [
  { name: "gateway", answer: gatewayAnswer, rows: gatewayRows, internal: { status: 500, body: null } },
  { name: "chat33", answer: chat33Answer, rows: chat33Rows, internal: chat33Answer(byCode("internal")) },
  {
    name: "enterprise",
    answer: (e) => {
      const b = enterpriseAnswer(e);
      return { status: b.code, body: b };
    },
    rows: enterpriseRows,
    internal: { status: 500, body: enterpriseAnswer(byCode("internal")) },
  },
  { name: "admin", answer: adminAnswer, rows: [], internal: adminAnswer(byCode("internal")) },
  { name: "console", answer: consoleAnswer, rows: [], internal: consoleAnswer(byCode("internal")) },
];

describe("typed reasons: the catalogue maps on every surface", () => {
  test("every catalogue code is a core error code", () => {
    const codes = new Set<string>(Object.values(ErrorCodes));
    for (const r of ALL_REASONS) assert.ok(codes.has(Reasons[r]), r);
    assert.ok(ALL_REASONS.length >= 60, "the ~60 reasons thrown across src are all listed");
  });

  for (const s of SURFACES) {
    test(`${s.name}: every row is a catalogue reason`, () => {
      for (const r of s.rows) assert.ok(Object.hasOwn(Reasons, r), `${s.name} maps unknown reason ${r}`);
    });

    test(`${s.name}: every reason has a row or falls back on its code, never on the internal answer`, () => {
      for (const reason of ALL_REASONS) {
        const code = Reasons[reason];
        const got = s.answer(probe(reason));
        assert.ok(Number.isInteger(got.status) && got.status >= 200 && got.status < 600, `${s.name} ${reason}`);
        if (!s.rows.includes(reason))
          assert.deepEqual(got, s.answer(byCode(code)), `${s.name}: ${reason} answers like any ${code} error`);
        if (code === "internal") continue;
        assert.ok(got.status < 500 || code === "unavailable", `${s.name}: ${reason} (${code}) is not a 5xx`);
        assert.notDeepEqual(got, s.internal, `${s.name}: ${reason} is not answered as an internal error`);
      }
    });

    test(`${s.name}: the fallback is total over the core codes`, () => {
      for (const code of Object.values(ErrorCodes)) {
        const got = s.answer(byCode(code));
        assert.ok(got.status >= 200 && got.status < 600, `${s.name} ${code}`);
        if (code !== "internal" && code !== "unavailable") assert.ok(got.status < 500, `${s.name} ${code}`);
      }
    });
  }
});
