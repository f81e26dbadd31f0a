import { isIP } from "node:net";
import { type TSchema, Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AccountService } from "../../core/accounts/account-service.ts";
import type { AdminAuth } from "../../core/admin/admin-token.ts";
import type { ChatroomService } from "../../core/chatrooms/chatroom-service.ts";
import { AppError } from "../../core/errors.ts";
import type { GroupService } from "../../core/groups/group-service.ts";
import { type ImActor, type ImService, LSN_TCP, LSN_WS, type PushTarget } from "../../core/im/im-service.ts";
import { formatPrecision, parsePrecision } from "../../core/im/precision.ts";
import { bearerToken } from "../../http/auth.ts";
import { documentRoutes } from "../../http/openapi.ts";
import { type HttpFailure, httpScope } from "../../http/scope.ts";
import { fromAppError, ImCodes, type ImEnvelope, ImFail, invalidParam, missing, ok } from "./envelope.ts";

export interface ImRoutesOptions {
  im: ImService;
  groups: GroupService;
  chatrooms: ChatroomService;
  accounts: Pick<AccountService, "authenticate">;
  admin: AdminAuth;
  maxBodyBytes: number;
}

type Query = Record<string, string | string[] | undefined>;
type Req = FastifyRequest<{ Querystring: Query }>;

/** Rank lists (top-list, mesg-top-list): default and largest `num`. */
const TOP_DEFAULT = 10;
const TOP_MAX = 1000;
/** A gag without an end: 100 years (chat-room mutes take a duration). */
const GAG_FOREVER_MS = 100 * 365 * 86400 * 1000;

/** Request examples of the seed's own calls (the rest are generated from the schemas). */
const IM_EXAMPLES = {
  "/register": { request: { uid: "10001", nation: "86", city: "10", town: "3" } },
  "/iplist": { request: { type: "2", uid: "10001", sid: "1", clientip: "127.0.0.1" } },
  "/push": { request: { dim: "broadcast" } },
  "/config": { request: { action: "list", option: "user-statis" } },
  "/query": { request: { option: "user-status", uid: "10001" } },
  "/group/config": { request: { action: "get", option: "blacklist", gid: "1" } },
  "/group/query": { request: { option: "top-list", num: "10" } },
  "/room/config": { request: { action: "get", option: "cap" } },
  "/room/query": { request: { option: "top-list", num: "10" } },
};

const ID = Type.String({ maxLength: 20, pattern: "^[0-9]+$" });
const WORD = Type.String({ maxLength: 64 });

/** A querystring schema: the listed parameters (required ones first), any others ignored. */
const query = (required: Record<string, TSchema>, optional: Record<string, TSchema> = {}) =>
  Type.Object(
    {
      ...required,
      ...Object.fromEntries(Object.entries(optional).map(([k, v]) => [k, Type.Optional(v)])),
    },
    { additionalProperties: true },
  );

const Reply = Type.Object({ code: Type.Integer(), errmsg: Type.String() }, { additionalProperties: true });

/** The scope's failure answers: every one in the 003 envelope with its code. */
function answer(f: HttpFailure): { status: number; body: ImEnvelope } {
  switch (f.kind) {
    case "app":
      return { status: 200, body: fromAppError(f.error) };
    case "validation": {
      const issue = f.issues[0];
      const name =
        (issue?.params?.missingProperty as string | undefined) ?? issue?.instancePath?.replace(/^\//, "") ?? "";
      if (issue?.keyword === "required")
        return { status: 200, body: { code: ImCodes.missingParameter, errmsg: missing(name).errmsg } };
      return { status: 200, body: { code: ImCodes.invalidParameter, errmsg: `Paramter [${name}] is invalid!` } };
    }
    case "too_large":
      return { status: 413, body: { code: ImCodes.bodyTooLarge, errmsg: "Request body length over limit" } };
    case "internal":
      return { status: 500, body: { code: ImCodes.system, errmsg: "System error" } };
    default:
      return { status: f.status, body: { code: ImCodes.invalidRequest, errmsg: f.message } };
  }
}

const imHttp = httpScope<ImEnvelope>({
  name: "im",
  body: { json: "application/json", emptyIsNoBody: true },
  answer,
  methodNotAllowed: (allowed) => ({
    code: ImCodes.methodNotAllowed,
    errmsg: `HTTP method is not supported for this request (use ${allowed.join(", ")})`,
  }),
});

const one = (q: Query, name: string): string | undefined => {
  const v = q[name];
  if (Array.isArray(v)) throw invalidParam(name, "is repeated");
  return v === undefined || v === "" ? undefined : v;
};
const need = (q: Query, name: string): string => {
  const v = one(q, name);
  if (v === undefined) throw missing(name);
  return v;
};
/** A non-negative integer parameter. */
const intOf = (name: string, v: string): number => {
  if (!/^[0-9]{1,15}$/.test(v)) throw invalidParam(name);
  return Number(v);
};
const posInt = (q: Query, name: string): number => {
  const n = intOf(name, need(q, name));
  if (n < 1) throw invalidParam(name, "must be positive");
  return n;
};
const optInt = (q: Query, name: string): number | null => {
  const v = one(q, name);
  return v === undefined ? null : intOf(name, v);
};
const precOf = (q: Query): number => {
  const p = parsePrecision(need(q, "prec"));
  if (p === null) throw invalidParam("prec", "must be seconds, or a number with s/m/h/d");
  return p;
};
const topNum = (q: Query): number => {
  const n = optInt(q, "num") ?? TOP_DEFAULT;
  if (n < 1 || n > TOP_MAX) throw invalidParam("num", `must be 1..${TOP_MAX}`);
  return n;
};
const indexed = <T extends object>(items: T[]) => ({ len: items.length, list: items.map((x, idx) => ({ idx, ...x })) });
const unsupported = (what: string, v: string | undefined) =>
  v === undefined ? missing(what) : invalidParam(what, `does not support ${JSON.stringify(v.slice(0, 32))}`);

/**
 * The HTTP API of seed 003 under `/im`: sessions and iplist (admin token, or a user's own token
 * for itself), push by dimension, statistics and nodes (`/im/config`), status queries, and the
 * group and chat-room administration on the core groups and chat rooms. Every reply is
 * `{…fields, code, errmsg}`; unknown `/im/*` paths answer 10020, other methods 10021.
 */
export async function imRoutes(app: FastifyInstance, o: ImRoutesOptions): Promise<void> {
  const { im, groups, chatrooms, admin } = o;
  const operator = { adminToken: true } as const;

  await app.register(
    async (api) => {
      imHttp.install(api);
      documentRoutes(api, {
        mount: "/im",
        // register/iplist: the admin token, or the user's own chat33 token; the rest: the admin token
        security: (path) =>
          path === "/register" || path === "/iplist"
            ? [{ adminBearer: [] }, { chat33Token: [] }]
            : [{ adminBearer: [] }],
        examples: IM_EXAMPLES,
      });
      // push bodies are delivered as their exact bytes: no parsing, whatever the Content-Type
      api.removeAllContentTypeParsers();
      api.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: o.maxBodyBytes }, (_req, body, done) =>
        done(null, body),
      );
      api.setNotFoundHandler((_req, reply) => {
        reply.status(404).send({ code: ImCodes.noSuchApi, errmsg: "Request api not found" });
      });

      /** The caller: the admin token, or (when `userAllowed`) a user token for itself. */
      const actorOf = async (req: FastifyRequest, userAllowed: boolean): Promise<ImActor> => {
        const bearer = bearerToken(req);
        if (bearer && (await admin.check(bearer))) return { admin: true };
        const header = req.headers["fzm-auth-token"];
        const token = (Array.isArray(header) ? header[0] : header) ?? bearer;
        if (userAllowed && token) {
          try {
            return { userId: (await o.accounts.authenticate(token)).user.id };
          } catch (e) {
            if (!(e instanceof AppError)) throw e;
          }
        }
        throw new ImFail(ImCodes.permissionDenied, "Permission denied");
      };

      const route = (
        method: "GET" | "POST",
        url: string,
        summary: string,
        querystring: TSchema,
        handler: (q: Query, actor: ImActor, req: Req) => Promise<object>,
        userAllowed = false,
      ) =>
        imHttp.route<{ Querystring: Query }>(api, {
          method,
          url,
          schema: { summary, tags: ["cluster admin (003)"], querystring, response: { 200: Reply } },
          // authentication first: a caller without rights learns nothing about the parameters
          preValidation: async (req, reply) => {
            try {
              (req as { imActor?: ImActor }).imActor = await actorOf(req, userAllowed);
            } catch (e) {
              if (!(e instanceof ImFail)) throw e;
              return reply.send({ code: e.code, errmsg: e.errmsg });
            }
          },
          handler: async (req) => {
            try {
              return await handler(req.query, (req as { imActor?: ImActor }).imActor as ImActor, req as Req);
            } catch (e) {
              if (e instanceof ImFail) return { code: e.code, errmsg: e.errmsg };
              throw e;
            }
          },
        });

      // -- 1. sessions -------------------------------------------------------------------------

      route(
        "GET",
        "/register",
        "设备注册 — create a session (sid) for a user's device",
        query({ uid: ID, nation: ID, city: ID, town: ID }),
        async (q, actor) => {
          const uid = posInt(q, "uid");
          const loc = {
            nation: intOf("nation", need(q, "nation")),
            city: intOf("city", need(q, "city")),
            town: intOf("town", need(q, "town")),
          };
          const s = await im.register(actor, uid, loc);
          return ok({ uid: s.uid, sid: s.sid, nation: s.nation, city: s.city, town: s.town });
        },
        true,
      );

      route(
        "GET",
        "/iplist",
        "获取IPLIST — access addresses and a token for a session",
        query({ type: ID, uid: ID, sid: ID, clientip: Type.String({ maxLength: 64 }) }),
        async (q, actor) => {
          const type = intOf("type", need(q, "type"));
          if (type !== LSN_TCP && type !== LSN_WS) throw invalidParam("type", "must be 1 (TCP) or 2 (WS)");
          const uid = posInt(q, "uid");
          const sid = posInt(q, "sid");
          if (!isIP(need(q, "clientip"))) throw invalidParam("clientip", "is not an IP address");
          const r = await im.iplist(actor, type, uid, sid);
          return ok({ uid, sid, type, len: r.iplist.length, iplist: r.iplist, token: r.token, expire: r.expire });
        },
        true,
      );

      // -- 2. push -----------------------------------------------------------------------------

      route(
        "POST",
        "/push",
        "推送 — deliver the body, byte for byte, by dimension",
        query(
          { dim: WORD },
          { gid: ID, rid: ID, expire: ID, sid: ID, uid: ID, appid: Type.String({ maxLength: 64 }), version: WORD },
        ),
        async (q, _actor, req) => {
          const dim = need(q, "dim");
          let target: PushTarget;
          let reply: object = {};
          switch (dim) {
            case "broadcast":
              target = { dim };
              break;
            case "group": {
              const gid = posInt(q, "gid");
              target = { dim, gid };
              reply = { gid };
              break;
            }
            case "room": {
              const rid = posInt(q, "rid");
              const expire = intOf("expire", need(q, "expire"));
              target = { dim, rid, expireSec: expire };
              reply = { rid };
              break;
            }
            case "sid":
              target = { dim, sid: posInt(q, "sid") };
              break;
            case "uid":
              target = { dim, uid: posInt(q, "uid") };
              break;
            case "appid":
              target = { dim, appid: need(q, "appid"), version: one(q, "version") ?? null };
              break;
            default:
              throw unsupported("dim", dim);
          }
          const body = req.body as Buffer | undefined;
          if (!body || body.length === 0) throw new ImFail(ImCodes.missingBody, "Request body is missing");
          const text = body.toString("utf8");
          if (!Buffer.from(text, "utf8").equals(body))
            throw new ImFail(ImCodes.invalidRequest, "Request body must be UTF-8 text");
          await im.push(target, text);
          return ok(reply);
        },
      );

      // -- 3, 7. statistics and nodes -----------------------------------------------------------

      route(
        "GET",
        "/config",
        "配置 — online-user statistics (user-statis), access nodes (listend) and forwarders (frwder)",
        query({ action: WORD, option: WORD }, { prec: WORD, num: ID, nid: ID, ipaddr: WORD, port: ID, type: ID }),
        async (q) => {
          const option = need(q, "option");
          const action = need(q, "action");
          if (option === "user-statis") {
            switch (action) {
              case "add": {
                const prec = precOf(q);
                await im.addPrecision(prec, posInt(q, "num"));
                return ok({});
              }
              case "del":
                await im.deletePrecision(precOf(q));
                return ok({});
              case "list": {
                const list = await im.precisions();
                return ok(
                  indexed(list.map((p) => ({ prec: p.prec, "prec-str": formatPrecision(p.prec), num: p.num }))),
                );
              }
              case "get": {
                const prec = precOf(q);
                const list = await im.trend(prec, posInt(q, "num"));
                return ok({
                  prec,
                  num: list.length,
                  list: list.map((x, idx) => ({ idx, time: x.time, "time-str": x.timeStr, num: x.num })),
                });
              }
              default:
                throw unsupported("action", action);
            }
          }
          if (option === "listend" || option === "frwder") {
            switch (action) {
              case "list":
                return ok(indexed(await nodeList(option)));
              case "add":
              case "del": {
                const nid = intOf("nid", need(q, "nid"));
                const ipaddr = need(q, "ipaddr");
                if (!isIP(ipaddr)) throw invalidParam("ipaddr", "is not an IP address");
                const port = intOf("port", need(q, "port"));
                if (port < 1 || port > 65535) throw invalidParam("port", "must be 1..65535");
                if (action === "add") {
                  const type = option === "frwder" ? 0 : (optInt(q, "type") ?? LSN_WS);
                  if (option === "listend" && type !== LSN_TCP && type !== LSN_WS)
                    throw invalidParam("type", "must be 1 (TCP) or 2 (WS)");
                  await im.addAddress(option, nid, type, ipaddr, port);
                  return ok({});
                }
                const done = await im.deleteAddress(option, nid, ipaddr, port);
                return ok({ result: done });
              }
              default:
                throw unsupported("action", action);
            }
          }
          throw unsupported("option", option);
        },
      );

      /** `listend`/`frwder` list: every live node, then the recorded addresses. */
      const nodeList = async (kind: "listend" | "frwder") => {
        const nodes = await im.nodeReports();
        const recorded = await im.addresses(kind);
        const live = new Set(nodes.map((n) => n.nid));
        if (kind === "listend") {
          const rows: object[] = [];
          for (const n of nodes) {
            const status = n.draining ? 2 : 1;
            if (n.ws) rows.push({ nid: n.nid, type: LSN_WS, ipaddr: n.ws, status, total: n.conns.ws });
            if (n.tcp) rows.push({ nid: n.nid, type: LSN_TCP, ipaddr: n.tcp, status, total: n.conns.tcp });
          }
          for (const a of recorded)
            rows.push({
              nid: a.nid,
              type: a.type,
              ipaddr: `${a.ipaddr}:${a.port}`,
              status: live.has(a.nid) ? 1 : 0,
              total: 0,
            });
          return rows;
        }
        // forwarding: the hub of each live node, then the recorded forwarders
        const rows: object[] = nodes.map((n) => {
          const [ipaddr, port] = splitAddr(n.ws ?? n.tcp ?? "");
          return { nid: n.nid, ipaddr, port, status: 1, total: n.conns.ws + n.conns.tcp };
        });
        for (const a of recorded)
          rows.push({ nid: a.nid, ipaddr: a.ipaddr, port: a.port, status: live.has(a.nid) ? 1 : 0, total: 0 });
        return rows;
      };

      // -- 4. status ---------------------------------------------------------------------------

      route(
        "GET",
        "/query",
        "状态查询 — a user's online status (user-status) or online sessions (sid-list)",
        query({ option: WORD }, { uid: ID }),
        async (q) => {
          const option = need(q, "option");
          if (option !== "user-status" && option !== "sid-list") throw unsupported("option", option);
          const uid = posInt(q, "uid");
          if (option === "user-status") {
            const s = await im.userStatus(uid);
            return ok({ uid, status: s.online ? 1 : 0, ...indexed(s.rooms.map((rid) => ({ rid }))) });
          }
          return ok({ uid, ...indexed((await im.sidList(uid)).map((sid) => ({ sid }))) });
        },
      );

      // -- 5. groups ---------------------------------------------------------------------------

      route(
        "GET",
        "/group/config",
        "群组配置 — blacklist, gag, close, capacity of a group",
        query({ action: WORD, option: WORD }, { gid: ID, uid: ID, cap: ID }),
        async (q) => {
          const option = need(q, "option");
          const action = need(q, "action");
          const pair = `${option} ${action}`;
          switch (pair) {
            case "blacklist add":
              await groups.operatorBlacklist(posInt(q, "gid"), posInt(q, "uid"));
              return ok({});
            case "blacklist del":
              await groups.operatorUnblacklist(posInt(q, "gid"), posInt(q, "uid"));
              return ok({});
            case "blacklist get":
              return ok(indexed((await groups.operatorBlacklisted(posInt(q, "gid"))).map((uid) => ({ uid }))));
            case "gag add":
            case "gag del": {
              const gid = posInt(q, "gid");
              const uid = optInt(q, "uid") || null;
              await groups.operatorGag(gid, uid, action === "add");
              return ok({});
            }
            case "gag get":
              return ok(indexed((await groups.operatorGagged(posInt(q, "gid"))).map((uid) => ({ uid }))));
            case "group close":
              await groups.operatorDissolve(posInt(q, "gid"));
              return ok({});
            case "cap set": {
              const gid = posInt(q, "gid");
              const g = await groups.operatorSetCapacity(gid, posInt(q, "cap"));
              return ok({ gid, cap: g.capacity });
            }
            case "cap get":
            case "group-cap get": {
              const gid = posInt(q, "gid");
              return ok({ gid, cap: await groups.operatorCapacity(gid) });
            }
            default:
              throw ["blacklist", "gag", "group", "cap", "group-cap"].includes(option)
                ? unsupported("action", action)
                : unsupported("option", option);
          }
        },
      );

      route(
        "GET",
        "/group/query",
        "群组排行 — groups by members (top-list) or messages (mesg-top-list)",
        query({ option: WORD }, { num: ID }),
        async (q) => {
          const option = need(q, "option");
          if (option === "top-list") return ok(indexed(await im.topGroups("members", topNum(q))));
          if (option === "mesg-top-list") return ok(indexed(await im.topGroups("messages", topNum(q))));
          throw unsupported("option", option);
        },
      );

      // -- 6. chat rooms -----------------------------------------------------------------------

      route(
        "GET",
        "/room/config",
        "聊天室配置 — blacklist, gag, close/open, shard capacity of a chat room",
        query({ action: WORD, option: WORD }, { rid: ID, uid: ID, cap: ID }),
        async (q) => {
          const option = need(q, "option");
          const action = need(q, "action");
          switch (`${option} ${action}`) {
            case "blacklist add":
              await chatrooms.blacklist(operator, posInt(q, "rid"), posInt(q, "uid"));
              return ok({});
            case "blacklist del":
              await chatrooms.require(posInt(q, "rid"));
              await chatrooms.unblacklist(operator, posInt(q, "rid"), posInt(q, "uid"));
              return ok({});
            case "gag add":
            case "gag del": {
              const rid = posInt(q, "rid");
              const uid = optInt(q, "uid") || null;
              await chatrooms.mute(operator, rid, uid, action === "add" ? GAG_FOREVER_MS : 0);
              return ok({});
            }
            case "room close":
            case "room open":
              await chatrooms.setStatus(operator, posInt(q, "rid"), action === "close" ? "closed" : "open");
              return ok({});
            case "cap set":
            case "cap get": {
              const rid = optInt(q, "rid");
              if (rid === 0) throw invalidParam("rid", "must be positive");
              if (action === "set") {
                const cap = posInt(q, "cap");
                if (rid === null) await im.setDefaultRoomCap(cap);
                else {
                  await chatrooms.require(rid);
                  await chatrooms.edit(operator, rid, { shardSize: cap });
                }
              }
              if (rid === null) return ok({ cap: chatrooms.defaultShardSize });
              return ok({ rid, cap: chatrooms.shardSize(await chatrooms.require(rid)) });
            }
            default:
              throw ["blacklist", "gag", "room", "cap"].includes(option)
                ? unsupported("action", action)
                : unsupported("option", option);
          }
        },
      );

      route(
        "GET",
        "/room/query",
        "聊天室查询 — rooms by online audience (top-list), a room's shards (group-list)",
        query({ option: WORD }, { rid: ID, num: ID }),
        async (q) => {
          const option = need(q, "option");
          if (option === "top-list") {
            const n = topNum(q);
            const cards = await chatrooms.list({ status: "all" });
            const ranked = cards
              .map((c) => ({ rid: c.id, total: c.users + c.guests }))
              .sort((a, b) => b.total - a.total || a.rid - b.rid)
              .slice(0, n);
            return ok(indexed(ranked));
          }
          if (option === "group-list") {
            const rid = posInt(q, "rid");
            const room = await chatrooms.require(rid);
            const card = await chatrooms.card(room);
            const cap = chatrooms.shardSize(room);
            const total = card.users + card.guests;
            const shards: Array<{ gid: number; total: number }> = [];
            for (let left = total, gid = 1; left > 0; left -= cap, gid++)
              shards.push({ gid, total: Math.min(cap, left) });
            return ok({ rid, ...indexed(shards) });
          }
          throw unsupported("option", option);
        },
      );
    },
    { prefix: "/im" },
  );
}

function splitAddr(addr: string): [string, number] {
  const i = addr.lastIndexOf(":");
  return i < 0 ? [addr, 0] : [addr.slice(0, i), Number(addr.slice(i + 1))];
}
