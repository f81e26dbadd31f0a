import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { ImNodeReport } from "../../core/im/im-service.ts";
import type { Json } from "../../ports/hub.ts";
import { VERSION } from "../../version.ts";
import type { AdminDeps } from "./deps.ts";
import { ok } from "./envelope.ts";
import { envelope } from "./schemas.ts";

const tags = ["admin: dashboard"];

/** The node operation each node answers with its own numbers (`admin.node`). */
export const ADMIN_NODE_OP = "admin.node";
/** Seconds of per-second samples a node keeps (the `rate` series). */
const RATE_WINDOW_S = 60;
/** A snapshot is reused for this long (several admins polling cost one round). */
const SNAPSHOT_TTL_MS = 1000;
/** How long one node may take to answer before it is shown as not answering. */
const NODE_TIMEOUT_MS = 1500;

/** One per-second sample of this node's running totals. */
interface Sample {
  t: number;
  stored: number;
  delivered: number;
}

const sum = (m: ReadonlyMap<string, number>) => {
  let n = 0;
  for (const v of m.values()) n += v;
  return n;
};
const record = (m: ReadonlyMap<string, number>) => Object.fromEntries([...m].filter(([, v]) => v !== 0));

const Counts = Type.Record(Type.String(), Type.Integer(), { description: "by surface (protocol / surface name)" });
const NodeOut = Type.Object({
  nodeId: Type.String(),
  nid: Type.Union([Type.Integer(), Type.Null()], { description: "the 003 integer node id (null: no access layer)" }),
  self: Type.Boolean({ description: "the node that answered this request" }),
  answered: Type.Boolean({ description: "false: the node is registered but did not answer in time" }),
  version: Type.String(),
  startedAt: Type.Integer(),
  seenAt: Type.Integer({ description: "last heartbeat (ms since epoch)" }),
  draining: Type.Boolean(),
  listeners: Type.Object({
    ws: Type.Union([Type.String(), Type.Null()], { description: "advertised ip:port of /im/ws" }),
    tcp: Type.Union([Type.String(), Type.Null()], { description: "advertised ip:port of the TCP listener" }),
  }),
  connections: Counts,
  connectionsTotal: Type.Integer(),
  messagesStored: Type.Object(
    { total: Type.Integer(), bySurface: Counts },
    { description: "messages stored through this node since it started" },
  ),
  messagesDelivered: Type.Integer({ description: "message events written to sockets by this node since it started" }),
  rate: Type.Object({
    storedPerSecond: Type.Number({ description: "messages stored per second over the last 10 s" }),
    deliveredPerSecond: Type.Number(),
    series: Type.Array(Type.Object({ t: Type.Integer(), stored: Type.Integer(), delivered: Type.Integer() }), {
      description: "per second, oldest first, at most 60: messages stored / delivered in that second",
    }),
  }),
});
const RankOut = Type.Array(
  Type.Object({ id: Type.Integer(), markId: Type.String(), name: Type.String(), total: Type.Integer() }),
);
const DashboardOut = Type.Object({
  at: Type.Integer({ description: "ms since epoch when this snapshot was taken" }),
  nodes: Type.Array(NodeOut),
  totals: Type.Object({
    nodes: Type.Integer(),
    connections: Counts,
    connectionsTotal: Type.Integer(),
    messagesStoredPerSecond: Type.Number(),
    messagesDeliveredPerSecond: Type.Number(),
    onlineAccessUsers: Type.Integer({ description: "users online on the 003 access layer (what user-statis samples)" }),
  }),
  topGroups: Type.Object({ byMembers: RankOut, byMessages: RankOut }),
  topRooms: Type.Array(
    Type.Object({
      id: Type.Integer(),
      name: Type.String(),
      status: Type.String(),
      users: Type.Integer(),
      guests: Type.Integer(),
      total: Type.Integer(),
    }),
  ),
});
type DashboardData = Static<typeof DashboardOut>;
type NodeData = Static<typeof NodeOut>;

const DashboardQuery = Type.Object(
  { top: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 10, description: "rows per ranking" })) },
  { additionalProperties: false },
);

const DrainBody = Type.Object(
  { nodeId: Type.String({ minLength: 1, maxLength: 128, description: "the node's id (dashboard nodes[].nodeId)" }) },
  { additionalProperties: false },
);

/**
 * `GET /admin/api/dashboard` (docs/admin.md "Dashboard"): one JSON snapshot of the cluster for the
 * console's charts — every live node's connections per surface, its message counters and
 * per-second rates, the totals, and the top groups and chat rooms. Each node answers the node
 * operation `admin.node` with its own numbers; the answering node merges them.
 */
export function dashboardRoutes(api: FastifyInstance, deps: AdminDeps): void {
  const { realtime, counters, im, groups, chatrooms } = deps;
  const stats = realtime.stats;

  const startedAt = Date.now();
  // per-second samples of this node's running totals (an unref'd timer; stopped with the server)
  const samples: Sample[] = [];
  const sample = () => {
    samples.push({ t: Date.now(), stored: sum(counters.messagesStored), delivered: sum(stats.messagesDelivered) });
    if (samples.length > RATE_WINDOW_S + 1) samples.shift();
  };
  sample();
  const timer = setInterval(sample, 1000);
  timer.unref();
  api.addHook("onClose", async () => clearInterval(timer));

  const cache = new Map<number, { at: number; data: Promise<DashboardData> }>();
  const rateOver = (seconds: number, key: "stored" | "delivered") => {
    const last = samples[samples.length - 1];
    const first = samples[Math.max(0, samples.length - 1 - seconds)];
    if (!last || !first || last.t === first.t) return 0;
    return Math.round(((last[key] - first[key]) / ((last.t - first.t) / 1000)) * 100) / 100;
  };

  /** This node's part of the dashboard. */
  const nodeReport = (): { [key: string]: Json } => {
    const series: Array<{ t: number; stored: number; delivered: number }> = [];
    for (let i = 1; i < samples.length; i++) {
      const a = samples[i - 1] as Sample;
      const b = samples[i] as Sample;
      series.push({ t: b.t, stored: b.stored - a.stored, delivered: b.delivered - a.delivered });
    }
    return {
      nodeId: realtime.nodeId,
      version: VERSION,
      startedAt,
      connections: record(stats.open),
      connectionsTotal: sum(stats.open),
      messagesStored: { total: sum(counters.messagesStored), bySurface: record(counters.messagesStored) },
      messagesDelivered: sum(stats.messagesDelivered),
      rate: {
        storedPerSecond: rateOver(10, "stored"),
        deliveredPerSecond: rateOver(10, "delivered"),
        series,
      },
    };
  };
  realtime.registerOp(ADMIN_NODE_OP, nodeReport);

  const ranked = async (list: Array<{ gid: number; total: number }>) =>
    Promise.all(
      list.map(async ({ gid, total }) => {
        const g = await groups.publicInfo(gid);
        return { id: gid, markId: g?.markId ?? "", name: g?.name ?? "", total };
      }),
    );

  const build = async (top: number): Promise<DashboardData> => {
    const at = Date.now();
    const registered = await realtime.hub.nodes();
    const [reports, access, online, byMembers, byMessages, rooms] = await Promise.all([
      Promise.all(
        registered.map((n) =>
          realtime.callNode(n.nodeId, ADMIN_NODE_OP, {}, NODE_TIMEOUT_MS).then(
            (r) => r as unknown as Omit<NodeData, "nid" | "self" | "answered" | "seenAt">,
            () => null,
          ),
        ),
      ),
      // the access layer's view (listeners, draining) when the 003 surface is on
      deps.config.im.enabled ? im.nodeReports() : Promise.resolve([] as ImNodeReport[]),
      deps.config.im.enabled ? im.onlineUsers() : Promise.resolve(0),
      im.topGroups("members", top),
      im.topGroups("messages", top),
      chatrooms.list({ status: "all" }),
    ]);
    const accessOf = new Map(access.map((a) => [a.nodeId, a]));
    const nodes: NodeData[] = registered
      .map((n, i) => {
        const r = reports[i];
        const a = accessOf.get(n.nodeId);
        const info = n.info ?? {};
        return {
          nodeId: n.nodeId,
          nid: a?.nid ?? null,
          self: n.nodeId === realtime.nodeId,
          answered: r !== null && r !== undefined,
          // the node's own answer; the registry's copy when it did not answer
          version: r?.version ?? (typeof info.version === "string" ? info.version : ""),
          startedAt: r?.startedAt ?? (typeof info.startedAt === "number" ? info.startedAt : 0),
          seenAt: n.seenAt,
          draining: a?.draining ?? false,
          listeners: { ws: a?.ws ?? null, tcp: a?.tcp ?? null },
          connections: r?.connections ?? {},
          connectionsTotal: r?.connectionsTotal ?? 0,
          messagesStored: r?.messagesStored ?? { total: 0, bySurface: {} },
          messagesDelivered: r?.messagesDelivered ?? 0,
          rate: r?.rate ?? { storedPerSecond: 0, deliveredPerSecond: 0, series: [] },
        };
      })
      .sort((a, b) => a.nodeId.localeCompare(b.nodeId));
    const connections: Record<string, number> = {};
    for (const n of nodes)
      for (const [k, v] of Object.entries(n.connections)) connections[k] = (connections[k] ?? 0) + v;
    const round = (x: number) => Math.round(x * 100) / 100;
    return {
      at,
      nodes,
      totals: {
        nodes: nodes.length,
        connections,
        connectionsTotal: nodes.reduce((s, n) => s + n.connectionsTotal, 0),
        messagesStoredPerSecond: round(nodes.reduce((s, n) => s + n.rate.storedPerSecond, 0)),
        messagesDeliveredPerSecond: round(nodes.reduce((s, n) => s + n.rate.deliveredPerSecond, 0)),
        onlineAccessUsers: online,
      },
      topGroups: { byMembers: await ranked(byMembers), byMessages: await ranked(byMessages) },
      topRooms: rooms
        .map((c) => ({
          id: c.id,
          name: c.name,
          status: c.status,
          users: c.users,
          guests: c.guests,
          total: c.users + c.guests,
        }))
        .sort((a, b) => b.total - a.total || a.id - b.id)
        .slice(0, top),
    };
  };

  api.route<{ Body: Static<typeof DrainBody> }>({
    method: "POST",
    url: "/nodes/drain",
    schema: {
      summary: "drain a node (as /im/config listend del of its own listener): its access clients move elsewhere",
      tags,
      body: DrainBody,
      response: {
        200: envelope(Type.Object({ nodeId: Type.String(), nid: Type.Integer(), draining: Type.Literal(true) })),
      },
    },
    handler: async (req) => {
      const node = await im.drainNode(req.body.nodeId);
      cache.clear();
      return ok({ nodeId: node.nodeId, nid: node.nid, draining: true as const });
    },
  });

  // one snapshot per `top` for SNAPSHOT_TTL_MS: concurrent polls share one round
  api.route<{ Querystring: Static<typeof DashboardQuery> }>({
    method: "GET",
    url: "/dashboard",
    schema: {
      summary: "cluster snapshot for the dashboard: nodes, connections, message rates, top groups and rooms",
      tags,
      querystring: DashboardQuery,
      response: { 200: envelope(DashboardOut) },
    },
    handler: async (req) => {
      const top = req.query.top ?? 10;
      const hit = cache.get(top);
      if (hit && Date.now() - hit.at < SNAPSHOT_TTL_MS) return ok(await hit.data);
      const data = build(top);
      cache.set(top, { at: Date.now(), data });
      data.catch(() => cache.delete(top));
      return ok(await data);
    },
  });
}
