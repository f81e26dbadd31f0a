import { useState } from "preact/hooks";
import { type ImList, optional } from "../api.ts";
import { session } from "../session.ts";
import { act, Field, Form, Loading, Section, Table, useLoad, when } from "../ui.tsx";

const api = () => session()!.api;

const missing = (route: string) => <p class="hint">Needs {route} (not on this server yet).</p>;

type Kind = "group" | "room";
const idName = (k: Kind) => (k === "group" ? "gid" : "rid");

/** Blacklist and gag of one group or chat room (seed 003 `/im/<kind>/config`). */
function Barriers({ kind, id }: { kind: Kind; id: number }) {
  const key = idName(kind);
  const path = `${kind}/config`;
  const black = useLoad(
    async () =>
      kind === "group"
        ? (await api().im<ImList<{ uid: number }>>(path, { action: "get", option: "blacklist", [key]: id })).list
        : null,
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
  return (
    <div class="grid2">
      <div>
        <h4>Blacklist</h4>
        <Loading l={black}>
          {(rows) =>
            rows === null ? (
              <p class="hint">The seed has no list of a room's blacklist; add or remove by user id.</p>
            ) : (
              <Table
                rows={rows}
                rowKey={(r) => String(r.uid)}
                empty="Nobody is barred."
                columns={[
                  { title: "User", cell: (r) => String(r.uid) },
                  {
                    title: "",
                    cell: (r) => (
                      <button
                        type="button"
                        onClick={() => run("Unbarred", { action: "del", option: "blacklist", uid: r.uid })}
                      >
                        Unbar
                      </button>
                    ),
                  },
                ]}
              />
            )
          }
        </Loading>
        <Form
          name={`${kind}-blacklist`}
          submit="Bar user"
          onSubmit={(v) => run("Barred", { action: v.lift ? "del" : "add", option: "blacklist", uid: v.uid })}
        >
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

interface GroupRow {
  id: string | number;
  markId?: string;
  name?: string;
  members?: number;
  memberCount?: number;
  ownerId?: string | number;
  status?: number | string;
}
interface MemberRow {
  userId?: string | number;
  id?: string | number;
  nickname?: string;
  level?: number | string;
  role?: string;
  mutedUntil?: number;
}

function GroupDetail({ gid, onGone }: { gid: number; onGone: () => void }) {
  const cap = useLoad(() => api().im<{ cap: number }>("group/config", { action: "get", option: "cap", gid }), [gid]);
  const members = useLoad(
    () =>
      optional(() => api().admin<{ list?: MemberRow[]; members?: MemberRow[] }>("GET", "/groups/members", { id: gid })),
    [gid],
  );
  return (
    <div class="detail" data-group={gid}>
      <h3>Group {gid}</h3>
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
      <Loading l={members}>
        {(m) =>
          m === null ? (
            missing("GET /admin/api/groups/members")
          ) : (
            <Table
              rows={m.list ?? m.members ?? []}
              rowKey={(r) => String(r.userId ?? r.id)}
              columns={[
                { title: "User", cell: (r) => String(r.userId ?? r.id) },
                { title: "Nickname", cell: (r) => r.nickname ?? "" },
                { title: "Role", cell: (r) => String(r.role ?? r.level ?? "") },
                { title: "Muted until", cell: (r) => when(r.mutedUntil ?? 0) },
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
  const list = useLoad(async () => {
    const all = await optional(() => api().admin<{ total?: number; list: GroupRow[] }>("GET", "/groups", { size: 50 }));
    if (all) return { kind: "all" as const, rows: all.list };
    const top = await api().im<ImList<{ gid: number; total: number }>>("group/query", { option: "top-list", num: 50 });
    return { kind: "top" as const, rows: top.list.map((g) => ({ id: g.gid, members: g.total }) as GroupRow) };
  }, []);
  return (
    <Section title="Groups" id="groups">
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
                { title: "Name", cell: (g) => g.name ?? "" },
                { title: "Members", cell: (g) => String(g.members ?? g.memberCount ?? "") },
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

interface ReportRow {
  id?: string | number;
  roomId?: string | number;
  rid?: string | number;
  userId?: string | number;
  reporterId?: string | number;
  reason?: string;
  content?: string;
  logId?: string | number;
  createdAt?: number;
}

function RoomDetail({ rid }: { rid: number }) {
  const cap = useLoad(() => api().im<{ cap: number }>("room/config", { action: "get", option: "cap", rid }), [rid]);
  const shards = useLoad(
    () => api().im<ImList<{ gid: number; total: number }>>("room/query", { option: "group-list", rid }),
    [rid],
    4000,
  );
  const status = async (action: "open" | "close") =>
    act(action === "close" ? "Room closed" : "Room opened", () =>
      api().im("room/config", { action, option: "room", rid }),
    );
  return (
    <div class="detail" data-room={rid}>
      <h3>Chat room {rid}</h3>
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
            if (!confirm(`Delete chat room ${rid}?`)) return;
            await act("Room deleted", () => api().admin("POST", "/rooms/delete", { id: String(rid) }));
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
      <Barriers kind="room" id={rid} />
    </div>
  );
}

function Rooms() {
  const [rid, setRid] = useState<number | null>(null);
  const list = useLoad(
    async () => {
      const all = await optional(() =>
        api().admin<{ list: Array<{ id: string | number; name?: string; status?: number; audience?: number }> }>(
          "GET",
          "/rooms",
        ),
      );
      if (all) return { kind: "all" as const, rows: all.list };
      const top = await api().im<ImList<{ rid: number; total: number }>>("room/query", { option: "top-list", num: 50 });
      return {
        kind: "top" as const,
        rows: top.list.map(
          (r) =>
            ({ id: r.rid, audience: r.total }) as { id: number; name?: string; status?: number; audience?: number },
        ),
      };
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
              empty="No room has an audience."
              columns={[
                { title: "Room", cell: (r) => String(r.id) },
                { title: "Name", cell: (r) => r.name ?? "" },
                { title: "Status", cell: (r) => (r.status === 2 ? "closed" : r.status === 1 ? "open" : "") },
                { title: "Audience", cell: (r) => String(r.audience ?? "") },
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
          </>
        )}
      </Loading>
      <Form name="open-room" class="inline-form" submit="Open" onSubmit={(v) => setRid(Number(v.rid))}>
        <Field label="Chat room id" name="rid" inputMode="numeric" required pattern="[0-9]+" />
      </Form>
      {rid !== null ? <RoomDetail key={rid} rid={rid} /> : null}
    </Section>
  );
}

function Moderation() {
  const reports = useLoad(
    () => optional(() => api().admin<{ list: ReportRow[] } | ReportRow[]>("GET", "/reports")),
    [],
  );
  const moderate = (action: "recall" | "delete", body: object) =>
    act(action === "recall" ? "Message recalled" : "Message deleted", () =>
      api().admin("POST", `/messages/${action}`, body),
    );
  return (
    <Section title="Reports and moderation" id="moderation">
      <Loading l={reports}>
        {(r) => {
          if (r === null) return missing("GET /admin/api/reports");
          const rows = Array.isArray(r) ? r : r.list;
          return (
            <Table
              rows={rows}
              rowKey={(x) => String(x.id ?? `${x.roomId}-${x.createdAt}`)}
              empty="No report."
              columns={[
                { title: "Room", cell: (x) => String(x.roomId ?? x.rid ?? "") },
                { title: "Reporter", cell: (x) => String(x.reporterId ?? x.userId ?? "") },
                { title: "Reason", cell: (x) => x.reason ?? x.content ?? "" },
                { title: "When", cell: (x) => when(x.createdAt ?? 0) },
              ]}
            />
          );
        }}
      </Loading>
      <Form
        name="moderate"
        submit="Recall message"
        onSubmit={(v) => moderate(v.delete ? "delete" : "recall", { logId: v.logId })}
      >
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
