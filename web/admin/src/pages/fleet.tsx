import { useState } from "preact/hooks";
import type { Customer, HistoryPoint } from "../api.ts";
import { LineChart } from "../chart.tsx";
import { session } from "../session.ts";
import { act, Dialog, Field, Form, Loading, Section, Table, useLoad, when } from "../ui.tsx";

const api = () => session()!.api;

/** The field rules of docs/console.md, checked in the page before sending (the server checks again). */
const HOST = "[A-Za-z0-9.:\\-]{1,253}";
const RULES = {
  code: "[A-Za-z0-9_.\\-]{1,64}",
  mac: "([0-9A-Fa-f]{2}([:\\-])){4,7}[0-9A-Fa-f]{2}",
  ctel: "[0-9+\\-() ]{0,32}",
};

function CustomerForm({ c, onDone }: { c?: Customer; onDone: () => void }) {
  return (
    <Form
      name={c ? "edit-customer" : "new-customer"}
      submit={c ? "Save" : "Add customer"}
      onSubmit={async (v) => {
        const body: Record<string, string | number> = {
          code: v.code,
          name: v.name,
          tcphost: v.tcphost,
          tcpport: Number(v.tcpport),
          webhost: v.webhost,
          webport: Number(v.webport),
          filehost: v.filehost,
          fileport: Number(v.fileport),
          timeout: v.timeout,
        };
        for (const k of ["mac", "contact", "ctel", "server"]) if (v[k] || c) body[k] = v[k];
        if (v.key) body.key = v.key;
        const r = await act(c ? "Customer saved" : "Customer added", () =>
          api().console(c ? "customer/update" : "customer/add", c ? { id: c.id, ...body } : body),
        );
        if (r) onDone();
      }}
    >
      <Field label="Code" name="code" required pattern={RULES.code} defaultValue={c?.code} />
      <Field label="Name" name="name" required maxLength={128} defaultValue={c?.name} />
      <Field label="MAC (5–8 octets)" name="mac" pattern={RULES.mac} defaultValue={c?.mac} />
      <Field label="TCP host" name="tcphost" required pattern={HOST} defaultValue={c?.tcphost} />
      <Field
        label="TCP port"
        name="tcpport"
        type="number"
        min={1}
        max={65535}
        required
        defaultValue={c ? String(c.tcpport) : ""}
      />
      <Field label="Web host" name="webhost" required pattern={HOST} defaultValue={c?.webhost} />
      <Field
        label="Web port"
        name="webport"
        type="number"
        min={1}
        max={65535}
        required
        defaultValue={c ? String(c.webport) : ""}
      />
      <Field label="File host" name="filehost" required pattern={HOST} defaultValue={c?.filehost} />
      <Field
        label="File port"
        name="fileport"
        type="number"
        min={1}
        max={65535}
        required
        defaultValue={c ? String(c.fileport) : ""}
      />
      <Field label="Licence expires" name="timeout" type="date" required defaultValue={c?.timeout} />
      <Field label="Contact" name="contact" maxLength={64} defaultValue={c?.contact} />
      <Field label="Phone" name="ctel" pattern={RULES.ctel} defaultValue={c?.ctel} />
      <Field label="Server" name="server" maxLength={64} defaultValue={c?.server} />
      <Field
        label={c?.hasKey ? "Report key (empty = keep)" : "Report key (optional)"}
        name="key"
        type="password"
        maxLength={128}
        autoComplete="off"
      />
    </Form>
  );
}

function CustomerDetail({ c }: { c: Customer }) {
  const users = useLoad(
    () => api().console<Array<Record<string, string | number>>>("user/list", { code: c.code }),
    [c.code],
    5000,
  );
  const groups = useLoad(
    () => api().console<Array<Record<string, string | number>>>("group/list", { code: c.code }),
    [c.code],
    5000,
  );
  const history = useLoad(
    () => api().console<HistoryPoint[]>("customer/history", { code: c.code, days: 30 }),
    [c.code],
    5000,
  );
  const r = c.lastReport;
  return (
    <div class="detail" data-customer={c.code}>
      <h3>
        {c.name} ({c.code})
      </h3>
      <p data-last-report>
        {r
          ? `Last report ${when(r.reportedAt)} from ${r.name} (${r.ip || "no address"}): ${r.count} users, ${r.updatetimes} directory updates, licence ${r.timeout || "—"}`
          : "No report yet."}
      </p>
      <Loading l={history}>
        {(h) => {
          const server = h.filter((p) => p.kind === "server");
          const u = h.filter((p) => p.kind === "users");
          const g = h.filter((p) => p.kind === "groups");
          return (
            <div class="grid2">
              <LineChart
                name="fleet-users"
                title="Users reported"
                x={server.map((p) => p.reportedAt / 1000)}
                series={[{ label: "users (server report)", values: server.map((p) => Number(p.values.count ?? 0)) }]}
              />
              <LineChart
                name="fleet-messages"
                title="Messages reported"
                x={u.map((p) => p.reportedAt / 1000)}
                series={[{ label: "messages sent", values: u.map((p) => Number(p.values.fmsgs ?? 0)) }]}
              />
              {g.length ? (
                <LineChart
                  name="fleet-groups"
                  title="Groups reported"
                  x={g.map((p) => p.reportedAt / 1000)}
                  series={[{ label: "groups", values: g.map((p) => Number(p.values.rows ?? 0)) }]}
                />
              ) : null}
            </div>
          );
        }}
      </Loading>
      <h4>Users</h4>
      <Loading l={users}>
        {(rows) => (
          <Table
            rows={rows}
            rowKey={(x) => String(x.uuid)}
            empty="No user reported."
            columns={[
              { title: "uuid", cell: (x) => String(x.uuid) },
              { title: "Nickname", cell: (x) => String(x.nickname ?? "") },
              { title: "Online (min)", cell: (x) => String(x.onlinetime ?? 0) },
              { title: "Sent", cell: (x) => String(x.fmsgs ?? 0) },
              { title: "Received", cell: (x) => String(x.tmsgs ?? 0) },
            ]}
          />
        )}
      </Loading>
      <h4>Groups</h4>
      <Loading l={groups}>
        {(rows) => (
          <Table
            rows={rows}
            rowKey={(x) => String(x.gid)}
            empty="No group reported."
            columns={[
              { title: "gid", cell: (x) => String(x.gid) },
              { title: "Name", cell: (x) => String(x.name ?? "") },
              { title: "Owner", cell: (x) => String(x.creatername ?? x.createrid ?? "") },
              { title: "Members", cell: (x) => String(x.ucount ?? 0) },
              { title: "Messages", cell: (x) => String(x.msgcount ?? 0) },
            ]}
          />
        )}
      </Loading>
    </div>
  );
}

export function Fleet() {
  const list = useLoad(() => api().console<Customer[]>("customer/list"), [], 5000);
  const [open, setOpen] = useState<string | null>(null);
  const [editing, setEditing] = useState<Customer | "new" | null>(null);
  return (
    <Section
      title="Customers"
      id="customers"
      actions={
        <button type="button" class="primary" data-action="new-customer" onClick={() => setEditing("new")}>
          Add customer
        </button>
      }
    >
      <Loading l={list}>
        {(cs) => (
          <>
            <Table
              rows={cs}
              rowKey={(c) => c.code}
              selected={open ?? undefined}
              empty="No customer yet."
              columns={[
                { title: "Code", cell: (c) => c.code },
                { title: "Name", cell: (c) => c.name },
                { title: "Addresses", cell: (c) => `${c.webhost}:${c.webport} · tcp ${c.tcphost}:${c.tcpport}` },
                { title: "Licence", cell: (c) => c.timeout },
                {
                  title: "Last report",
                  cell: (c) => (
                    <span data-report-count={c.lastReport ? c.lastReport.count : ""}>
                      {c.lastReport ? `${when(c.lastReport.reportedAt)} · ${c.lastReport.count} users` : "none"}
                    </span>
                  ),
                },
                {
                  title: "",
                  cell: (c) => (
                    <span class="row-actions">
                      <button
                        type="button"
                        data-action="open"
                        onClick={() => setOpen(c.code)}
                        aria-pressed={open === c.code}
                      >
                        Open
                      </button>
                      <button type="button" data-action="edit" onClick={() => setEditing(c)}>
                        Edit
                      </button>
                      <button
                        type="button"
                        class="danger"
                        data-action="remove"
                        onClick={async () => {
                          if (!confirm(`Remove ${c.name} (${c.code}) with its reports?`)) return;
                          const r = await act("Customer removed", () => api().console("customer/remove", { id: c.id }));
                          if (r) {
                            if (open === c.code) setOpen(null);
                            list.reload();
                          }
                        }}
                      >
                        Remove
                      </button>
                    </span>
                  ),
                },
              ]}
            />
            {open && cs.find((c) => c.code === open) ? (
              <CustomerDetail key={open} c={cs.find((c) => c.code === open) as Customer} />
            ) : null}
          </>
        )}
      </Loading>
      {editing ? (
        <Dialog title={editing === "new" ? "Add customer" : `Edit ${editing.code}`} onClose={() => setEditing(null)}>
          <CustomerForm
            c={editing === "new" ? undefined : editing}
            onDone={() => {
              setEditing(null);
              list.reload();
            }}
          />
        </Dialog>
      ) : null}
    </Section>
  );
}
