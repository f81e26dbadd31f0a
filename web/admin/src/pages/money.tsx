import { useState } from "preact/hooks";
import { session } from "../session.ts";
import { act, Field, Form, Loading, Section, Table, useLoad, when } from "../ui.tsx";

const api = () => session()!.api;

interface LedgerRow {
  id: string | number;
  entryId: string | number;
  account: string;
  userId: string | null;
  coin: number;
  amount: number | string;
  reason: string;
  ref: string | null;
  createdAt: number;
}
interface PacketRow {
  id: string | number;
  senderId: string;
  senderName?: string;
  coin: number;
  type: number;
  amount: number | string;
  size: number;
  target: string;
  toId: string;
  claimed: number;
  refunded: number;
  settledAt: number | null;
  expiresAt: number;
  createdAt: number;
}
interface VerifyResult {
  ok: boolean;
  issues: Array<{ check: string; detail: string }>;
  checkedAt: number;
  durationMs: number;
}

function Deposit() {
  const [last, setLast] = useState<{
    userId: string;
    coin: number;
    amount: number;
    balance: number;
    replay: boolean;
  } | null>(null);
  return (
    <Section title="Deposit" id="deposit">
      <Form
        name="deposit"
        submit="Deposit"
        onSubmit={async (v) => {
          const r = await act("Deposited", () =>
            api().admin<{ userId: string; coin: number; amount: number; balance: number; replay: boolean }>(
              "POST",
              "/wallet/deposit",
              {
                userId: v.userId,
                coin: Number(v.coin),
                amount: v.amount,
                idempotencyKey: v.key || crypto.randomUUID(),
              },
            ),
          );
          if (r) setLast(r);
        }}
      >
        <Field label="User id" name="userId" required inputMode="numeric" pattern="[1-9][0-9]*" />
        <Field label="Coin" name="coin" type="number" min={1} defaultValue="1" required />
        <Field
          label="Amount (≤ 8 decimals)"
          name="amount"
          required
          inputMode="decimal"
          pattern="[0-9]+(\.[0-9]{1,8})?"
        />
        <Field label="Idempotency key (empty = a new one)" name="key" maxLength={128} />
      </Form>
      {last ? (
        <p data-deposit-result>
          User {last.userId}, coin {last.coin}: +{last.amount} → balance {last.balance}
          {last.replay ? " (a replay: nothing changed)" : ""}
        </p>
      ) : null}
    </Section>
  );
}

function Ledger() {
  const [userId, setUserId] = useState("");
  const [beforeId, setBeforeId] = useState<string | null>(null);
  const l = useLoad(
    () =>
      api().admin<{ list: LedgerRow[]; nextBeforeId: string | number | null }>("GET", "/wallet/ledger", {
        ...(userId ? { userId } : {}),
        ...(beforeId ? { beforeId } : {}),
        limit: 50,
      }),
    [userId, beforeId],
  );
  return (
    <Section title="Ledger" id="ledger">
      <form
        class="search"
        onSubmit={(e) => {
          e.preventDefault();
          setBeforeId(null);
          setUserId(String(new FormData(e.currentTarget as HTMLFormElement).get("userId") ?? "").trim());
        }}
      >
        <input name="userId" inputMode="numeric" placeholder="user id (empty = all)" aria-label="User id" />
        <button type="submit">Show</button>
      </form>
      <Loading l={l}>
        {(d) => (
          <>
            <Table
              rows={d.list}
              rowKey={(r) => String(r.id)}
              empty="No entry."
              columns={[
                { title: "Entry", cell: (r) => String(r.entryId) },
                { title: "Account", cell: (r) => r.account },
                { title: "User", cell: (r) => r.userId ?? "" },
                { title: "Coin", cell: (r) => String(r.coin) },
                { title: "Amount", cell: (r) => String(r.amount) },
                { title: "Reason", cell: (r) => r.reason },
                { title: "Reference", cell: (r) => r.ref ?? "" },
                { title: "When", cell: (r) => when(r.createdAt) },
              ]}
            />
            <p>
              {beforeId ? (
                <button type="button" onClick={() => setBeforeId(null)}>
                  Newest
                </button>
              ) : null}{" "}
              {d.nextBeforeId !== null ? (
                <button type="button" data-action="ledger-older" onClick={() => setBeforeId(String(d.nextBeforeId))}>
                  Older
                </button>
              ) : null}
            </p>
          </>
        )}
      </Loading>
    </Section>
  );
}

function Packets() {
  const [page, setPage] = useState(1);
  const size = 20;
  const l = useLoad(
    () => api().admin<{ total: number; list: PacketRow[] }>("GET", "/wallet/packets", { page, size }),
    [page],
  );
  return (
    <Section title="Red packets" id="packets">
      <Loading l={l}>
        {(d) => (
          <>
            <Table
              rows={d.list}
              rowKey={(r) => String(r.id)}
              empty="No red packet."
              columns={[
                { title: "Packet", cell: (r) => String(r.id) },
                { title: "Sender", cell: (r) => (r.senderName ? `${r.senderName} (${r.senderId})` : r.senderId) },
                { title: "Coin", cell: (r) => String(r.coin) },
                { title: "Amount", cell: (r) => String(r.amount) },
                { title: "Kind", cell: (r) => (r.type === 1 ? "random" : "equal") },
                { title: "To", cell: (r) => `${r.target} ${r.toId}` },
                { title: "Claimed", cell: (r) => `${r.claimed} / ${r.size}` },
                { title: "Refunded", cell: (r) => String(r.refunded) },
                {
                  title: "State",
                  cell: (r) => (r.settledAt ? "settled" : r.expiresAt < Date.now() ? "expired" : "open"),
                },
                { title: "Sent", cell: (r) => when(r.createdAt) },
              ]}
            />
            <p>
              {page > 1 ? (
                <button type="button" onClick={() => setPage(page - 1)}>
                  Previous
                </button>
              ) : null}{" "}
              {page * size < d.total ? (
                <button type="button" onClick={() => setPage(page + 1)}>
                  Next
                </button>
              ) : null}{" "}
              <span>{d.total} in all</span>
            </p>
          </>
        )}
      </Loading>
    </Section>
  );
}

function Check() {
  const [result, setResult] = useState<VerifyResult | null>(null);
  return (
    <Section title="Ledger check" id="check">
      <p class="hint">Sums every account against its ledger entries (parley wallet verify); runs on click only.</p>
      <button
        type="button"
        data-action="ledger-check"
        onClick={async () => {
          const r = await act("Ledger checked", () => api().admin<VerifyResult>("POST", "/wallet/verify", {}));
          if (r !== undefined) setResult(r);
        }}
      >
        Run the check
      </button>
      {result !== null ? (
        <div data-check-result={result.ok ? "ok" : "issues"}>
          <p>
            {result.ok ? "The ledger is consistent." : `${result.issues.length} issue(s) found.`} Checked{" "}
            {when(result.checkedAt)} in {result.durationMs} ms.
          </p>
          {result.issues.length ? (
            <ul>
              {result.issues.map((i) => (
                <li key={`${i.check}:${i.detail}`}>
                  {i.check}: {i.detail}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </Section>
  );
}

export function Money() {
  return (
    <>
      <Deposit />
      <Check />
      <Ledger />
      <Packets />
    </>
  );
}
