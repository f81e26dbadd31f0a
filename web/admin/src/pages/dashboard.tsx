import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, errorText, type ImList, type ListendRow, type Precision, type StatBucket } from "../api.ts";
import { Bars, LineChart, type Series } from "../chart.tsx";
import { session } from "../session.ts";
import { act, Loading, Section, useLoad } from "../ui.tsx";

/** How often the live views poll. */
export const LIVE_MS = 2000;
/** How many live samples the charts keep (2 s × 150 = 5 minutes). */
const KEEP = 150;

/** `GET /admin/api/dashboard`: one snapshot per poll. */
export interface DashboardSnapshot {
  at: number;
  nodes: Array<{
    nodeId: string;
    nid: number | null;
    draining: boolean;
    connections: Record<string, number>;
    connectionsTotal: number;
    rate?: { storedPerSecond: number; deliveredPerSecond: number };
  }>;
  totals: {
    connections: Record<string, number>;
    connectionsTotal: number;
    messagesStoredPerSecond: number;
    messagesDeliveredPerSecond: number;
    onlineAccessUsers: number;
  };
  topGroups: {
    byMembers: Array<{ id: string; markId: string; name: string; total: number }>;
    byMessages: Array<{ id: string; markId: string; name: string; total: number }>;
  };
  topRooms: Array<{ id: string; name: string; status: string; users: number; guests: number; total: number }>;
}

interface Sample {
  t: number;
  perNode: Map<string, number>;
  perSurface: Map<string, number>;
  /** messages stored per second over the cluster (the server's own 10 s rate), when known */
  stored: number | null;
  delivered: number | null;
}

/** A rolling window of samples taken every LIVE_MS: connections per node and per surface, messages/s. */
function useLive() {
  const [samples, setSamples] = useState<Sample[]>([]);
  const [note, setNote] = useState("");
  const [snapshot, setSnapshot] = useState<DashboardSnapshot | null>(null);
  const hasSnapshot = useRef<boolean | null>(null);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      const api = session()?.api;
      if (!api) return;
      const t = Date.now() / 1000;
      const perNode = new Map<string, number>();
      const perSurface = new Map<string, number>();
      let stored: number | null = null;
      let delivered: number | null = null;
      try {
        if (hasSnapshot.current !== false) {
          try {
            const d = await api.admin<DashboardSnapshot>("GET", "/dashboard", { top: 10 });
            hasSnapshot.current = true;
            setSnapshot(d);
            for (const n of d.nodes) {
              perNode.set(n.nid === null ? n.nodeId.slice(0, 12) : `node ${n.nid}`, n.connectionsTotal);
              for (const [k, v] of Object.entries(n.connections)) perSurface.set(k, (perSurface.get(k) ?? 0) + v);
            }
            // surfaces without connections are left out of the snapshot: "all" is always there
            perSurface.set("all", d.totals.connectionsTotal);
            stored = d.totals.messagesStoredPerSecond;
            delivered = d.totals.messagesDeliveredPerSecond;
          } catch (e) {
            if (!(e instanceof ApiError) || e.status !== 404) throw e;
            hasSnapshot.current = false;
            setNote("Connections per surface and messages/s need GET /admin/api/dashboard (not on this server yet).");
          }
        }
        if (hasSnapshot.current === false) {
          // access connections per node (seed 003's listener list)
          const r = await api.im<ImList<ListendRow>>("config", { action: "list", option: "listend" });
          for (const row of r.list)
            if (row.status !== 0) perNode.set(`node ${row.nid}`, (perNode.get(`node ${row.nid}`) ?? 0) + row.total);
          perSurface.set(
            "access",
            [...perNode.values()].reduce((a, b) => a + b, 0),
          );
        }
        if (live) setSamples((s) => [...s, { t, perNode, perSurface, stored, delivered }].slice(-KEEP));
      } catch (e) {
        if (live) setNote(errorText(e));
      }
      if (live) timer = setTimeout(tick, document.hidden ? LIVE_MS * 4 : LIVE_MS);
    };
    tick();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, []);
  return { samples, note, snapshot };
}

function seriesOf(samples: Sample[], pick: (s: Sample) => Map<string, number>): Series[] {
  const keys = new Set<string>();
  for (const s of samples) for (const k of pick(s).keys()) keys.add(k);
  return [...keys].sort().map((k) => ({ label: k, values: samples.map((s) => pick(s).get(k) ?? null) }));
}

function LiveCharts({ live }: { live: ReturnType<typeof useLive> }) {
  const { samples, note } = live;
  const x = samples.map((s) => s.t);
  const last = samples[samples.length - 1];
  return (
    <Section title="Live" id="live">
      {note ? <p class="hint">{note}</p> : null}
      <div class="stats" data-live-samples={samples.length}>
        <div>
          <strong data-stat="connections">{last ? [...last.perNode.values()].reduce((a, b) => a + b, 0) : "—"}</strong>
          <span>connections now</span>
        </div>
        <div>
          <strong data-stat="nodes">{last ? last.perNode.size : "—"}</strong>
          <span>nodes</span>
        </div>
        <div>
          <strong data-stat="msgs">{last && last.stored !== null ? last.stored.toFixed(1) : "—"}</strong>
          <span>messages / s</span>
        </div>
      </div>
      <div class="grid2">
        <LineChart name="per-node" title="Connections per node" x={x} series={seriesOf(samples, (s) => s.perNode)} />
        <LineChart
          name="per-surface"
          title="Connections per surface"
          x={x}
          series={seriesOf(samples, (s) => s.perSurface)}
        />
        {samples.some((s) => s.stored !== null) ? (
          <LineChart
            name="msgs"
            title="Messages per second"
            x={x}
            series={[
              { label: "stored/s", values: samples.map((s) => s.stored) },
              { label: "delivered/s", values: samples.map((s) => s.delivered) },
            ]}
          />
        ) : null}
      </div>
    </Section>
  );
}

function OnlineTrend() {
  const api = session()!.api;
  const precs = useLoad(() => api.im<ImList<Precision>>("config", { action: "list", option: "user-statis" }), []);
  const [prec, setPrec] = useState<number | null>(null);
  const chosen = prec ?? precs.data?.list[0]?.prec ?? null;
  const buckets = useLoad(
    async () =>
      chosen === null
        ? null
        : await api.im<{ list: StatBucket[] }>("config", {
            action: "get",
            option: "user-statis",
            prec: chosen,
            num: 500,
          }),
    [chosen],
    LIVE_MS * 2,
  );
  return (
    <Section
      title="Online users"
      id="online"
      actions={
        <Loading l={precs}>
          {(p) =>
            p.list.length ? (
              <label class="inline">
                <span>Precision</span>
                <select value={String(chosen)} onChange={(e) => setPrec(Number((e.target as HTMLSelectElement).value))}>
                  {p.list.map((x) => (
                    <option key={x.prec} value={String(x.prec)}>
                      {x["prec-str"]} × {x.num}
                    </option>
                  ))}
                </select>
              </label>
            ) : null
          }
        </Loading>
      }
    >
      <Loading l={precs}>
        {(p) =>
          p.list.length === 0 ? (
            <p class="hint">
              The user-statis sampler keeps no precision yet.{" "}
              <button
                type="button"
                onClick={async () => {
                  await act("Precision 1m × 60 added", () =>
                    api.im("config", { action: "add", option: "user-statis", prec: "1m", num: 60 }),
                  );
                  precs.reload();
                }}
              >
                Keep 1-minute buckets for an hour
              </button>
            </p>
          ) : (
            <Loading l={buckets}>
              {(b) => {
                const rows = [...(b?.list ?? [])].reverse();
                return (
                  <LineChart
                    name="online"
                    title={`Online users (${p.list.find((x) => x.prec === chosen)?.["prec-str"] ?? ""} buckets)`}
                    x={rows.map((r) => r.time)}
                    series={[{ label: "online users", values: rows.map((r) => r.num) }]}
                  />
                );
              }}
            </Loading>
          )
        }
      </Loading>
    </Section>
  );
}

interface Top {
  key: string;
  label: string;
  value: number;
}

function Tops({ snapshot }: { snapshot: DashboardSnapshot | null }) {
  const api = session()!.api;
  // without the dashboard snapshot: the seed-003 top lists (ids and counts, no names)
  const tops = useLoad(
    async () => {
      if (snapshot) return null;
      const [members, messages, rooms] = await Promise.all([
        api.im<ImList<{ gid: number; total: number }>>("group/query", { option: "top-list", num: 10 }),
        api.im<ImList<{ gid: number; total: number }>>("group/query", { option: "mesg-top-list", num: 10 }),
        api.im<ImList<{ rid: number; total: number }>>("room/query", { option: "top-list", num: 10 }),
      ]);
      const g = (l: ImList<{ gid: number; total: number }>): Top[] =>
        l.list.map((x) => ({ key: String(x.gid), label: `group ${x.gid}`, value: x.total }));
      return {
        members: g(members),
        messages: g(messages),
        rooms: rooms.list.map((r) => ({ key: String(r.rid), label: `room ${r.rid}`, value: r.total })),
      };
    },
    [snapshot === null],
    LIVE_MS * 3,
  );
  const named = (l: Array<{ id: string; name: string; total: number }>): Top[] =>
    l.map((x) => ({ key: x.id, label: x.name || `#${x.id}`, value: x.total }));
  const data = snapshot
    ? {
        members: named(snapshot.topGroups.byMembers),
        messages: named(snapshot.topGroups.byMessages),
        rooms: snapshot.topRooms.map((r) => ({
          key: r.id,
          label: `${r.name || `#${r.id}`}${r.status === "closed" ? " (closed)" : ""}`,
          value: r.total,
        })),
      }
    : tops.data;
  return (
    <Section title="Top conversations" id="tops">
      {!data ? (
        <Loading l={tops}>{() => null}</Loading>
      ) : (
        <div class="grid3">
          <Bars name="group-members" title="Groups by members" rows={data.members} />
          <Bars name="group-messages" title="Groups by messages" rows={data.messages} />
          <Bars name="rooms" title="Chat rooms by audience" rows={data.rooms} />
        </div>
      )}
    </Section>
  );
}

export function Dashboard() {
  const live = useLive();
  return (
    <>
      <LiveCharts live={live} />
      <OnlineTrend />
      <Tops snapshot={live.snapshot} />
    </>
  );
}
