import { useState } from "preact/hooks";
import { optional } from "../api.ts";
import { session } from "../session.ts";
import { act, Field, Form, Loading, Section, Table, useLoad, when } from "../ui.tsx";

const api = () => session()!.api;

interface LedgerRow {
  id: string | number;
  userId?: string;
  coin?: number;
  amount?: number | string;
  kind?: string;
  ref?: string;
  balance?: number | string;
  createdAt?: number;
}
interface PacketRow {
  id: string | number;
  senderId?: string;
  coin?: number;
  amount?: number | string;
  size?: number;
  remain?: number;
  status?: number | string;
  createdAt?: number;
}

const list = <T,>(d: T[] | { list: T[] }) => (Array.isArray(d) ? d : d.list);

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
  const l = useLoad(
    () =>
      optional(() => api().admin<LedgerRow[] | { list: LedgerRow[] }>("GET", "/wallet/ledger", { userId, limit: 100 })),
    [userId],
  );
  return (
    <Section title="Ledger" id="ledger">
      <form
        class="search"
        onSubmit={(e) => {
          e.preventDefault();
          setUserId(String(new FormData(e.currentTarget as HTMLFormElement).get("userId") ?? "").trim());
        }}
      >
        <input name="userId" inputMode="numeric" placeholder="user id (empty = all)" aria-label="User id" />
        <button type="submit">Show</button>
      </form>
      <Loading l={l}>
        {(d) =>
          d === null ? (
            <p class="hint">Needs GET /admin/api/wallet/ledger (not on this server yet).</p>
          ) : (
            <Table
              rows={list(d)}
              rowKey={(r) => String(r.id)}
              empty="No entry."
              columns={[
                { title: "Entry", cell: (r) => String(r.id) },
                { title: "User", cell: (r) => r.userId ?? "" },
                { title: "Coin", cell: (r) => String(r.coin ?? "") },
                { title: "Amount", cell: (r) => String(r.amount ?? "") },
                { title: "Kind", cell: (r) => r.kind ?? "" },
                { title: "Reference", cell: (r) => r.ref ?? "" },
                { title: "When", cell: (r) => when(r.createdAt ?? 0) },
              ]}
            />
          )
        }
      </Loading>
    </Section>
  );
}

function Packets() {
  const l = useLoad(
    () => optional(() => api().admin<PacketRow[] | { list: PacketRow[] }>("GET", "/wallet/packets", { limit: 100 })),
    [],
  );
  return (
    <Section title="Red packets" id="packets">
      <Loading l={l}>
        {(d) =>
          d === null ? (
            <p class="hint">Needs GET /admin/api/wallet/packets (not on this server yet).</p>
          ) : (
            <Table
              rows={list(d)}
              rowKey={(r) => String(r.id)}
              empty="No red packet."
              columns={[
                { title: "Packet", cell: (r) => String(r.id) },
                { title: "Sender", cell: (r) => r.senderId ?? "" },
                { title: "Coin", cell: (r) => String(r.coin ?? "") },
                { title: "Amount", cell: (r) => String(r.amount ?? "") },
                { title: "Shares", cell: (r) => `${r.remain ?? "?"} / ${r.size ?? "?"}` },
                { title: "Status", cell: (r) => String(r.status ?? "") },
                { title: "Sent", cell: (r) => when(r.createdAt ?? 0) },
              ]}
            />
          )
        }
      </Loading>
    </Section>
  );
}

function Check() {
  const [result, setResult] = useState<unknown>(null);
  return (
    <Section title="Ledger check" id="check">
      <p class="hint">Sums every account against its ledger entries; a healthy ledger balances to zero.</p>
      <button
        type="button"
        data-action="ledger-check"
        onClick={async () => {
          const r = await act("Ledger checked", () => api().admin("POST", "/wallet/check", {}));
          if (r !== undefined) setResult(r);
        }}
      >
        Run the check
      </button>
      {result !== null ? (
        <pre class="result" data-check-result>
          {JSON.stringify(result, null, 2)}
        </pre>
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
