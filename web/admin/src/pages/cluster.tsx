import { useRef } from "preact/hooks";
import type { ImList, ListendRow } from "../api.ts";
import { LineChart } from "../chart.tsx";
import { session } from "../session.ts";
import { act, Field, Form, Loading, Section, Table, useLoad } from "../ui.tsx";

const api = () => session()!.api;
const STATUS = ["recorded (node gone)", "up", "draining"];
const TYPE: Record<number, string> = { 1: "TCP", 2: "WS" };

interface FrwderRow {
  idx: number;
  nid: number;
  ipaddr: string;
  port: number;
  status: number;
  total: number;
}

/** Nodes (seed 003 listend/frwder lists), their connections over time, drain and addresses. */
export function Cluster() {
  const history = useRef<{ x: number[]; byNode: Map<number, Array<number | null>> }>({ x: [], byNode: new Map() });
  const nodes = useLoad(
    async () => {
      const listend = await api().im<ImList<ListendRow>>("config", { action: "list", option: "listend" });
      const frwder = await api().im<ImList<FrwderRow>>("config", { action: "list", option: "frwder" });
      // connections per node over time, kept while the page is open
      const h = history.current;
      const totals = new Map<number, number>();
      for (const r of listend.list) if (r.status !== 0) totals.set(r.nid, (totals.get(r.nid) ?? 0) + r.total);
      h.x = [...h.x, Date.now() / 1000].slice(-150);
      for (const nid of totals.keys()) if (!h.byNode.has(nid)) h.byNode.set(nid, new Array(h.x.length - 1).fill(null));
      for (const [nid, vals] of h.byNode) h.byNode.set(nid, [...vals, totals.get(nid) ?? null].slice(-150));
      return { listend: listend.list, frwder: frwder.list };
    },
    [],
    2000,
  );
  const drain = async (r: ListendRow) => {
    const [ip, port] = [r.ipaddr.slice(0, r.ipaddr.lastIndexOf(":")), r.ipaddr.slice(r.ipaddr.lastIndexOf(":") + 1)];
    if (!confirm(`Drain node ${r.nid}? Its access connections are kicked and it leaves iplist until it restarts.`))
      return;
    await act(`Node ${r.nid} draining`, () =>
      api().im("config", { action: "del", option: "listend", nid: r.nid, ipaddr: ip, port }),
    );
    nodes.reload();
  };
  const h = history.current;
  return (
    <>
      <Section title="Nodes" id="nodes">
        <Loading l={nodes}>
          {(d) => {
            const live = d.listend.filter((r) => r.status !== 0);
            const nids = [...new Set(live.map((r) => r.nid))];
            return (
              <>
                <div class="stats">
                  {nids.map((nid) => {
                    const rows = live.filter((r) => r.nid === nid);
                    const draining = rows.some((r) => r.status === 2);
                    return (
                      <div key={nid} data-node={nid} data-node-status={draining ? "draining" : "up"}>
                        <strong data-node-total>{rows.reduce((a, r) => a + r.total, 0)}</strong>
                        <span>
                          node {nid} · {draining ? "draining" : "up"}
                        </span>
                      </div>
                    );
                  })}
                </div>
                <LineChart
                  name="cluster-connections"
                  title="Access connections per node"
                  x={h.x}
                  series={[...h.byNode.entries()].map(([nid, values]) => ({ label: `node ${nid}`, values }))}
                />
                <Table
                  rows={d.listend}
                  rowKey={(r) => `${r.nid}-${r.type}-${r.ipaddr}`}
                  caption="Access listeners (listend)"
                  columns={[
                    { title: "Node", cell: (r) => String(r.nid) },
                    { title: "Type", cell: (r) => TYPE[r.type] ?? String(r.type) },
                    { title: "Address", cell: (r) => r.ipaddr },
                    {
                      title: "Status",
                      cell: (r) => <span data-listener-status>{STATUS[r.status] ?? String(r.status)}</span>,
                    },
                    { title: "Connections", cell: (r) => String(r.total) },
                    {
                      title: "",
                      cell: (r) =>
                        r.status === 1 ? (
                          <button type="button" class="danger" data-action="drain" onClick={() => drain(r)}>
                            Drain
                          </button>
                        ) : null,
                    },
                  ]}
                />
                <Table
                  rows={d.frwder}
                  rowKey={(r) => `${r.nid}-${r.ipaddr}-${r.port}`}
                  caption="Forwarders (frwder: the hub)"
                  columns={[
                    { title: "Node", cell: (r) => String(r.nid) },
                    { title: "Address", cell: (r) => `${r.ipaddr}:${r.port}` },
                    { title: "Status", cell: (r) => STATUS[r.status] ?? String(r.status) },
                    { title: "Total", cell: (r) => String(r.total) },
                  ]}
                />
              </>
            );
          }}
        </Loading>
      </Section>
      <Section title="Advertised addresses" id="addresses">
        <p class="hint">An address recorded for a node is handed out by iplist while that node is live.</p>
        <Form
          name="add-address"
          submit="Record address"
          onSubmit={async (v) => {
            await act("Address recorded", () =>
              api().im("config", {
                action: v.remove ? "del" : "add",
                option: "listend",
                nid: v.nid,
                ipaddr: v.ipaddr,
                port: v.port,
                ...(v.remove ? {} : { type: v.type }),
              }),
            );
            nodes.reload();
          }}
        >
          <Field label="Node (nid)" name="nid" required inputMode="numeric" pattern="[0-9]+" />
          <Field label="IP address" name="ipaddr" required />
          <Field label="Port" name="port" type="number" min={1} max={65535} required />
          <label class="field">
            <span>Type</span>
            <select name="type" defaultValue="2">
              <option value="2">WS</option>
              <option value="1">TCP</option>
            </select>
          </label>
          <label class="check">
            <input type="checkbox" name="remove" /> remove this recorded address instead
          </label>
        </Form>
      </Section>
    </>
  );
}
