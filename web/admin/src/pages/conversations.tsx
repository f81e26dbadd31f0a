import { useState } from "preact/hooks";
import { type ImList, optional } from "../api.ts";
import { session } from "../session.ts";
import { act, Field, Form, Loading, Section, Table, useLoad, when } from "../ui.tsx";

const api = () => session()!.api;

const missing = (route: string) => <p class="hint">Needs {route} (not on this server yet).</p>;

type Kind = "group" | "room";
const idName = (k: Kind) => (k === "group" ? "gid" : "rid");

/**
 * Blacklist and gag of one group or chat room: a group's through seed 003 `/im/group/config`; a
 * room's blacklist is listed by `GET /admin/api/rooms/detail` and changed by `POST
 * /admin/api/rooms/blacklist`, its gag through `/im/room/config`.
 */
function Barriers({ kind, id }: { kind: Kind; id: number }) {
  const key = idName(kind);
  const path = `${kind}/config`;
  const black = useLoad(
    async (): Promise<Array<{ uid: number; nickname?: string }>> =>
      kind === "group"
        ? (await api().im<ImList<{ uid: number }>>(path, { action: "get", option: "blacklist", [key]: id })).list
        : (await api().admin<RoomDetailData>("GET", "/rooms/detail", { id, limit: 0 })).blacklist.map((u) => ({
            uid: Number(u.id),
            nickname: u.nickname,
          })),
    [id],
  );
  const gag = useLoad(
    async () =>
      kind === "group"
        ? (await api().im<ImList<{ uid: number }>>(path, { action: "get", option: "gag", [key]: id })).list
        : null,
    [id],
  );
  const run = async (what: string, q: Record<string, string | number>) => {
    await act(what, () => api().im(path, { [key]: id, ...q }));
    black.reload();
    gag.reload();
  };
  const bar = async (uid: string | number, barred: boolean) => {
    const what = barred ? "Barred" : "Unbarred";
    if (kind === "group") return run(what, { action: barred ? "add" : "del", option: "blacklist", uid });
    await act(what, () => api().admin("POST", "/rooms/blacklist", { id, userId: Number(uid), blacklisted: barred }));
    black.reload();
  };
  return (
    <div class="grid2">
      <div data-blacklist={`${kind}-${id}`}>
        <h4>Blacklist</h4>
        <Loading l={black}>
          {(rows) => (
            <Table
              rows={rows}
              rowKey={(r) => String(r.uid)}
              empty="Nobody is barred."
              columns={[
                { title: "User", cell: (r) => String(r.uid) },
                ...(kind === "room"
                  ? [{ title: "Nickname", cell: (r: { nickname?: string }) => r.nickname ?? "" }]
                  : []),
                {
                  title: "",
                  cell: (r) => (
                    <button type="button" data-action="unbar" onClick={() => bar(r.uid, false)}>
                      Unbar
                    </button>
                  ),
                },
              ]}
            />
          )}
        </Loading>
        <Form name={`${kind}-blacklist`} submit="Bar user" onSubmit={(v) => bar(v.uid, !v.lift)}>
          <Field label="User id" name="uid" inputMode="numeric" required pattern="[0-9]+" />
          <label class="check">
            <input type="checkbox" name="lift" /> remove from the blacklist instead
          </label>
        </Form>
      </div>
      <div>
        <h4>Mute (gag)</h4>
        <Loading l={gag}>
          {(rows) =>
            rows === null ? null : (
              <Table
                rows={rows}
                rowKey={(r) => String(r.uid)}
                empty="Nobody is muted."
                columns={[{ title: "User", cell: (r) => (r.uid === 0 ? "everyone" : String(r.uid)) }]}
              />
            )
          }
        </Loading>
        <Form
          name={`${kind}-gag`}
          submit="Apply"
          onSubmit={(v) =>
            run(v.lift ? "Mute lifted" : "Muted", {
              action: v.lift ? "del" : "add",
              option: "gag",
              ...(v.uid ? { uid: v.uid } : {}),
            })
          }
        >
          <Field label="User id (empty = everyone)" name="uid" inputMode="numeric" pattern="[0-9]*" />
          <label class="check">
            <input type="checkbox" name="lift" /> lift instead
          </label>
        </Form>
      </div>
    </div>
  );
}

/** `/admin/api/groups` (adminapi): a group; the seed-003 top list gives only `id` and `members`. */
interface GroupRow {
  id: string | number;
  markId?: string;
  name?: string;
  members?: number;
  capacity?: number;
}
interface UserRef {
  id: string;
  uid?: string;
  nickname?: string;
  username?: string | null;
}
interface GroupDetailData {
  group: GroupRow;
  members: Array<{ user: UserRef; role: number; mutedUntil: number; joinedAt: number }>;
  blacklist: UserRef[];
}
const ROLE = ["", "member", "admin", "owner"];

function GroupDetail({ gid, onGone }: { gid: number; onGone: () => void }) {
  const cap = useLoad(() => api().im<{ cap: number }>("group/config", { action: "get", option: "cap", gid }), [gid]);
  const detail = useLoad(
    () => optional(() => api().admin<GroupDetailData>("GET", "/groups/detail", { id: gid })),
    [gid],
  );
  const member = async (what: string, path: string, body: object) => {
    await act(what, () => api().admin("POST", path, { id: String(gid), ...body }));
    detail.reload();
  };
  return (
    <div class="detail" data-group={gid}>
      <h3>
        Group {gid}
        {detail.data?.group.name ? ` — ${detail.data.group.name}` : ""}
      </h3>
      <div class="row-actions">
        <Loading l={cap}>{(c) => <span>capacity {c.cap}</span>}</Loading>
        <Form
          name="group-cap"
          class="inline-form"
          submit="Set capacity"
          onSubmit={async (v) => {
            await act("Capacity set", () =>
              api().im("group/config", { action: "set", option: "cap", gid, cap: v.cap }),
            );
            cap.reload();
          }}
        >
          <Field label="Capacity" name="cap" type="number" min={1} required />
        </Form>
        <button
          type="button"
          class="danger"
          data-action="dissolve"
          onClick={async () => {
            if (!confirm(`Dissolve group ${gid}? Every member is told and the group is gone.`)) return;
            const r = await act("Group dissolved", () =>
              api().im("group/config", { action: "close", option: "group", gid }),
            );
            if (r) onGone();
          }}
        >
          Dissolve
        </button>
      </div>
      <h4>Members</h4>
      <Loading l={detail}>
        {(d) =>
          d === null ? (
            missing("GET /admin/api/groups/detail")
          ) : (
            <Table
              rows={d.members}
              rowKey={(m) => m.user.id}
              columns={[
                { title: "User", cell: (m) => `${m.user.id} (${m.user.uid ?? ""})` },
                { title: "Nickname", cell: (m) => m.user.nickname ?? "" },
                { title: "Role", cell: (m) => ROLE[m.role] ?? String(m.role) },
                { title: "Muted until", cell: (m) => (m.mutedUntil > Date.now() ? when(m.mutedUntil) : "—") },
                {
                  title: "",
                  cell: (m) =>
                    m.role === 3 ? null : (
                      <span class="row-actions">
                        <button
                          type="button"
                          onClick={() =>
                            member(m.role === 2 ? "Now a member" : "Now an admin", "/groups/role", {
                              userId: m.user.id,
                              role: m.role === 2 ? 1 : 2,
                            })
                          }
                        >
                          {m.role === 2 ? "Make member" : "Make admin"}
                        </button>
                        <button
                          type="button"
                          onClick={() =>
                            member(m.mutedUntil > Date.now() ? "Mute lifted" : "Muted for 10 minutes", "/groups/mute", {
                              userId: m.user.id,
                              durationMs: m.mutedUntil > Date.now() ? 0 : 600_000,
                            })
                          }
                        >
                          {m.mutedUntil > Date.now() ? "Lift mute" : "Mute 10 min"}
                        </button>
                      </span>
                    ),
                },
              ]}
            />
          )
        }
      </Loading>
      <Barriers kind="group" id={gid} />
    </div>
  );
}

function Groups() {
  const [gid, setGid] = useState<number | null>(null);
  const [query, setQuery] = useState("");
  const list = useLoad(async () => {
    const all = await optional(() =>
      api().admin<{ total: number; list: GroupRow[] }>("GET", "/groups", { query, page: 1, size: 50 }),
    );
    if (all) return { kind: "all" as const, rows: all.list, total: all.total };
    const top = await api().im<ImList<{ gid: number; total: number }>>("group/query", { option: "top-list", num: 50 });
    return { kind: "top" as const, rows: top.list.map((g) => ({ id: g.gid, members: g.total }) as GroupRow), total: 0 };
  }, [query]);
  return (
    <Section title="Groups" id="groups">
      <form
        class="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(String(new FormData(e.currentTarget as HTMLFormElement).get("gq") ?? "").trim());
        }}
      >
        <input name="gq" type="search" placeholder="group name or ID" aria-label="Search groups" maxLength={64} />
        <button type="submit">Search</button>
      </form>
      <Loading l={list}>
        {(l) => (
          <>
            {l.kind === "top" ? <p class="hint">The 50 largest groups (seed 003 top-list).</p> : null}
            <Table
              rows={l.rows}
              rowKey={(g) => String(g.id)}
              selected={String(gid)}
              empty="No group."
              columns={[
                { title: "Group", cell: (g) => String(g.id) },
                { title: "ID", cell: (g) => g.markId ?? "" },
                { title: "Name", cell: (g) => g.name ?? "" },
                { title: "Members", cell: (g) => `${g.members ?? ""}${g.capacity ? ` / ${g.capacity}` : ""}` },
                {
                  title: "",
                  cell: (g) => (
                    <button type="button" onClick={() => setGid(Number(g.id))}>
                      Manage
                    </button>
                  ),
                },
              ]}
            />
          </>
        )}
      </Loading>
      <Form name="open-group" class="inline-form" submit="Open" onSubmit={(v) => setGid(Number(v.gid))}>
        <Field label="Group id" name="gid" inputMode="numeric" required pattern="[0-9]+" />
      </Form>
      {gid !== null ? (
        <GroupDetail
          key={gid}
          gid={gid}
          onGone={() => {
            setGid(null);
            list.reload();
          }}
        />
      ) : null}
    </Section>
  );
}

/** `/admin/api/rooms` (adminapi): a chat room; the seed-003 top list gives only `id` and the audience. */
interface RoomRow {
  id: string | number;
  name?: string;
  status?: string;
  users?: number;
  guests?: number;
  audience?: number;
  shardSize?: number;
}
interface RoomDetailData {
  room: RoomRow;
  audience: { users: UserRef[]; userCount: number; guestCount: number };
  blacklist: UserRef[];
  mutes: Array<{ userId: string; nickname: string; until: number }>;
}

function RoomDetail({ rid, onChanged }: { rid: number; onChanged: () => void }) {
  const cap = useLoad(() => api().im<{ cap: number }>("room/config", { action: "get", option: "cap", rid }), [rid]);
  const shards = useLoad(
    () => api().im<ImList<{ gid: number; total: number }>>("room/query", { option: "group-list", rid }),
    [rid],
    4000,
  );
  const detail = useLoad(
    () => optional(() => api().admin<RoomDetailData>("GET", "/rooms/detail", { id: rid, limit: 200 })),
    [rid],
    4000,
  );
  const status = async (action: "open" | "close") => {
    await act(action === "close" ? "Room closed" : "Room opened", () =>
      api().im("room/config", { action, option: "room", rid }),
    );
    onChanged();
  };
  return (
    <div class="detail" data-room={rid}>
      <h3>
        Chat room {rid}
        {detail.data?.room.name ? ` — ${detail.data.room.name}` : ""}
      </h3>
      <div class="row-actions">
        <button type="button" data-action="close-room" onClick={() => status("close")}>
          Close
        </button>
        <button type="button" data-action="open-room" onClick={() => status("open")}>
          Open
        </button>
        <button
          type="button"
          class="danger"
          data-action="delete-room"
          onClick={async () => {
            if (!confirm(`Delete chat room ${rid}? This is final.`)) return;
            await act("Room deleted", () =>
              api().admin("POST", "/rooms/status", { id: String(rid), status: "deleted" }),
            );
            onChanged();
          }}
        >
          Delete
        </button>
        <Loading l={cap}>{(c) => <span>shard size {c.cap}</span>}</Loading>
        <Form
          name="room-cap"
          class="inline-form"
          submit="Set shard size"
          onSubmit={async (v) => {
            await act("Shard size set", () =>
              api().im("room/config", { action: "set", option: "cap", rid, cap: v.cap }),
            );
            cap.reload();
          }}
        >
          <Field label="Shard size" name="cap" type="number" min={1} required />
        </Form>
      </div>
      <div class="grid2">
        <div>
          <h4>Audience by shard</h4>
          <Loading l={shards}>
            {(s) => (
              <Table
                rows={s.list}
                rowKey={(r) => String(r.gid)}
                empty="Nobody in the room."
                columns={[
                  { title: "Shard", cell: (r) => String(r.gid) },
                  { title: "Audience", cell: (r) => String(r.total) },
                ]}
              />
            )}
          </Loading>
        </div>
        <div>
          <h4>Audience</h4>
          <Loading l={detail}>
            {(d) =>
              d === null ? (
                missing("GET /admin/api/rooms/detail")
              ) : (
                <>
                  <p>
                    {d.audience.userCount} users, {d.audience.guestCount} guests
                  </p>
                  <Table
                    rows={d.audience.users}
                    rowKey={(u) => u.id}
                    empty="No signed-in user."
                    columns={[
                      { title: "User", cell: (u) => u.id },
                      { title: "Nickname", cell: (u) => u.nickname ?? "" },
                    ]}
                  />
                </>
              )
            }
          </Loading>
        </div>
      </div>
      <Barriers kind="room" id={rid} />
    </div>
  );
}

function Rooms() {
  const [rid, setRid] = useState<number | null>(null);
  const list = useLoad(
    async () => {
      const all = await optional(() => api().admin<RoomRow[]>("GET", "/rooms", { status: "all" }));
      if (all) return { kind: "all" as const, rows: all };
      const top = await api().im<ImList<{ rid: number; total: number }>>("room/query", { option: "top-list", num: 50 });
      return { kind: "top" as const, rows: top.list.map((r) => ({ id: r.rid, audience: r.total }) as RoomRow) };
    },
    [],
    5000,
  );
  return (
    <Section title="Chat rooms" id="rooms">
      <Loading l={list}>
        {(l) => (
          <>
            {l.kind === "top" ? <p class="hint">Rooms with an audience now (seed 003 top-list).</p> : null}
            <Table
              rows={l.rows}
              rowKey={(r) => String(r.id)}
              selected={String(rid)}
              empty="No chat room."
              columns={[
                { title: "Room", cell: (r) => String(r.id) },
                { title: "Name", cell: (r) => r.name ?? "" },
                { title: "Status", cell: (r) => <span data-room-status>{r.status ?? ""}</span> },
                {
                  title: "Audience",
                  cell: (r) =>
                    r.audience !== undefined ? String(r.audience) : `${r.users ?? 0} users, ${r.guests ?? 0} guests`,
                },
                {
                  title: "",
                  cell: (r) => (
                    <button type="button" onClick={() => setRid(Number(r.id))}>
                      Manage
                    </button>
                  ),
                },
              ]}
            />
            {l.kind === "all" ? (
              <Form
                name="new-room"
                class="inline-form"
                submit="Create room"
                onSubmit={async (v, f) => {
                  const r = await act("Room created", () => api().admin("POST", "/rooms", { name: v.name }));
                  if (r) {
                    f.reset();
                    list.reload();
                  }
                }}
              >
                <Field label="New room's name" name="name" required maxLength={64} />
              </Form>
            ) : null}
          </>
        )}
      </Loading>
      <Form name="open-room" class="inline-form" submit="Open" onSubmit={(v) => setRid(Number(v.rid))}>
        <Field label="Chat room id" name="rid" inputMode="numeric" required pattern="[0-9]+" />
      </Form>
      {rid !== null ? <RoomDetail key={rid} rid={rid} onChanged={list.reload} /> : null}
    </Section>
  );
}

interface ReportRow {
  id: string;
  roomId: string | null;
  reporter: UserRef | null;
  target: UserRef | null;
  logId: string | null;
  createdAt: number;
  message: { content?: Record<string, unknown>; recalledAt?: number | null; deletedAt?: number | null } | null;
}

/** What a reported message said, as one line of text. */
function messageText(m: ReportRow["message"]): string {
  if (!m) return "";
  if (m.deletedAt) return "(deleted)";
  if (m.recalledAt) return "(recalled)";
  const c = m.content ?? {};
  return typeof c.text === "string" ? c.text : JSON.stringify(c).slice(0, 200);
}

function Moderation() {
  const reports = useLoad(() => optional(() => api().admin<ReportRow[]>("GET", "/rooms/reports", { limit: 50 })), []);
  const moderate = async (action: "recall" | "delete", logId: string) => {
    await act(action === "recall" ? "Message recalled" : "Message deleted", () =>
      api().admin("POST", `/messages/${action}`, { logId }),
    );
    reports.reload();
  };
  return (
    <Section title="Reports and moderation" id="moderation">
      <Loading l={reports}>
        {(rows) =>
          rows === null ? (
            missing("GET /admin/api/rooms/reports")
          ) : (
            <Table
              rows={rows}
              rowKey={(x) => x.id}
              empty="No report."
              columns={[
                { title: "Room", cell: (x) => x.roomId ?? "" },
                { title: "Reporter", cell: (x) => x.reporter?.nickname ?? x.reporter?.id ?? "" },
                { title: "Reported", cell: (x) => x.target?.nickname ?? x.target?.id ?? "" },
                { title: "Message", cell: (x) => messageText(x.message) },
                { title: "When", cell: (x) => when(x.createdAt) },
                {
                  title: "",
                  cell: (x) =>
                    x.logId && x.message && !x.message.deletedAt ? (
                      <span class="row-actions">
                        {!x.message.recalledAt ? (
                          <button type="button" onClick={() => moderate("recall", x.logId as string)}>
                            Recall
                          </button>
                        ) : null}
                        <button type="button" class="danger" onClick={() => moderate("delete", x.logId as string)}>
                          Delete
                        </button>
                      </span>
                    ) : null,
                },
              ]}
            />
          )
        }
      </Loading>
      <Form name="moderate" submit="Recall message" onSubmit={(v) => moderate(v.delete ? "delete" : "recall", v.logId)}>
        <Field label="Message log id" name="logId" required inputMode="numeric" pattern="[0-9]+" />
        <label class="check">
          <input type="checkbox" name="delete" /> delete instead of recall
        </label>
      </Form>
    </Section>
  );
}

export function Conversations() {
  return (
    <>
      <Groups />
      <Rooms />
      <Moderation />
    </>
  );
}
