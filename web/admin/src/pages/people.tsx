import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { type Company, type Department, type License, optional, type Role, type SmsRow, type User } from "../api.ts";
import { session } from "../session.ts";
import { act, Dialog, Field, Form, Loading, Section, Table, useLoad, when, yesNo } from "../ui.tsx";

const api = () => session()!.api;

/** Optional integer field: "" → undefined. */
const int = (s: string | undefined) => (s ? Number(s) : undefined);
const orNull = (s: string | undefined) => (s ? Number(s) : null);

const MUTES = [
  { label: "10 minutes", ms: 10 * 60_000 },
  { label: "1 hour", ms: 3600_000 },
  { label: "1 day", ms: 86400_000 },
  { label: "7 days", ms: 7 * 86400_000 },
];

function status(u: User): string {
  const s: string[] = [];
  if (u.disabled) s.push("disabled");
  if (u.mutedUntil > Date.now()) s.push(`muted until ${when(u.mutedUntil)}`);
  if (u.admin) s.push("admin");
  return s.join(", ") || "active";
}

interface LiveSession {
  id?: string;
  sessionId?: string;
  platform?: string;
  device?: string;
  createdAt?: number;
  expiresAt?: number;
}

function Sessions({ user }: { user: User }) {
  const l = useLoad(
    () =>
      optional(() => api().admin<LiveSession[] | { list: LiveSession[] }>("GET", "/users/sessions", { id: user.id })),
    [user.id],
  );
  return (
    <div class="sub" data-sessions={user.id}>
      <h4>Sessions</h4>
      <Loading l={l}>
        {(d) => {
          if (d === null) return <p class="hint">Listing sessions needs GET /admin/api/users/sessions.</p>;
          const rows = Array.isArray(d) ? d : d.list;
          return (
            <Table
              rows={rows}
              rowKey={(r) => String(r.id ?? r.sessionId)}
              empty="No live session."
              columns={[
                { title: "Session", cell: (r) => String(r.id ?? r.sessionId) },
                { title: "Platform", cell: (r) => r.platform ?? r.device ?? "" },
                { title: "Since", cell: (r) => when(r.createdAt ?? 0) },
                { title: "Expires", cell: (r) => when(r.expiresAt ?? 0) },
                {
                  title: "",
                  cell: (r) => (
                    <button
                      type="button"
                      onClick={async () => {
                        await act("Session revoked", () =>
                          api().admin("POST", "/users/sessions/revoke", {
                            id: user.id,
                            sessionId: String(r.id ?? r.sessionId),
                          }),
                        );
                        l.reload();
                      }}
                    >
                      Revoke
                    </button>
                  ),
                },
              ]}
            />
          );
        }}
      </Loading>
      <button
        type="button"
        data-action="revoke-all"
        onClick={async () => {
          const r = await act("Signed out everywhere", () =>
            api().admin<{ revoked: number }>("POST", "/users/revoke-sessions", { id: user.id }),
          );
          if (r) l.reload();
        }}
      >
        Sign out everywhere
      </button>
    </div>
  );
}

function EditUser({ user, onClose, onChanged }: { user: User; onClose: () => void; onChanged: (u: User) => void }) {
  const update = async (what: string, body: object) => {
    const u = await act(what, () => api().admin<User>("POST", "/users/update", { id: user.id, ...body }));
    if (u) onChanged(u);
  };
  const [muteMs, setMuteMs] = useState(MUTES[0].ms);
  return (
    <Dialog title={`User ${user.nickname} (${user.id})`} onClose={onClose}>
      <p class="hint" data-user-status>
        {status(user)}
      </p>
      <Form
        name="edit-user"
        submit="Save"
        onSubmit={(v) =>
          update("Saved", {
            nickname: v.nickname || undefined,
            email: v.email,
            position: v.position,
            level: Number(v.level),
            admin: v.admin === "1",
            companyId: orNull(v.companyId),
            deptId: orNull(v.deptId),
            roleId: orNull(v.roleId),
          })
        }
      >
        <Field label="Nickname" name="nickname" defaultValue={user.nickname} maxLength={64} />
        <Field label="Email" name="email" defaultValue={user.email} maxLength={128} />
        <Field label="Position" name="position" defaultValue={user.position} maxLength={64} />
        <label class="field">
          <span>Level</span>
          <select name="level" defaultValue={String(user.level)}>
            <option value="0">guest</option>
            <option value="1">user</option>
            <option value="2">customer service</option>
          </select>
        </label>
        <label class="check">
          <input type="checkbox" name="admin" defaultChecked={user.admin} /> Parley administrator
        </label>
        <Field label="Company id" name="companyId" inputMode="numeric" defaultValue={String(user.companyId ?? "")} />
        <Field label="Department id" name="deptId" inputMode="numeric" defaultValue={String(user.deptId ?? "")} />
        <Field label="Role id" name="roleId" inputMode="numeric" defaultValue={String(user.roleId ?? "")} />
      </Form>
      <div class="row-actions">
        <button
          type="button"
          data-action="disable"
          class={user.disabled ? "" : "danger"}
          onClick={() => update(user.disabled ? "Enabled" : "Disabled", { disabled: !user.disabled })}
        >
          {user.disabled ? "Enable" : "Disable"}
        </button>
        <label class="inline">
          <span>Mute for</span>
          <select value={String(muteMs)} onChange={(e) => setMuteMs(Number((e.target as HTMLSelectElement).value))}>
            {MUTES.map((m) => (
              <option key={m.ms} value={String(m.ms)}>
                {m.label}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          data-action="mute"
          onClick={async () => {
            const u = await act("Muted", () =>
              api().admin<User>("POST", "/users/mute", { id: user.id, durationMs: muteMs }),
            );
            if (u && typeof u === "object" && "id" in u) onChanged(u);
          }}
        >
          Mute
        </button>
        <button
          type="button"
          data-action="unmute"
          onClick={async () => {
            const u = await act("Mute lifted", () =>
              api().admin<User>("POST", "/users/mute", { id: user.id, durationMs: 0 }),
            );
            if (u && typeof u === "object" && "id" in u) onChanged(u);
          }}
        >
          Lift mute
        </button>
      </div>
      <Form
        name="reset-password"
        submit="Reset password"
        onSubmit={async (v, f) => {
          await update("Password reset (sessions ended)", { password: v.password });
          f.reset();
        }}
      >
        <Field
          label="New password"
          name="password"
          type="password"
          minLength={6}
          maxLength={128}
          required
          autoComplete="new-password"
        />
      </Form>
      <Sessions user={user} />
    </Dialog>
  );
}

function Users() {
  const [query, setQuery] = useState("");
  const [page, setPage] = useState(1);
  const [editing, setEditing] = useState<User | null>(null);
  const [creating, setCreating] = useState(false);
  const size = 20;
  const l = useLoad(
    () => api().admin<{ total: number; list: User[] }>("GET", "/users", { query, page, size }),
    [query, page],
  );
  return (
    <Section
      title="Users"
      id="users"
      actions={
        <button type="button" class="primary" data-action="new-user" onClick={() => setCreating(true)}>
          New user
        </button>
      }
    >
      <form
        class="search"
        onSubmit={(e) => {
          e.preventDefault();
          setPage(1);
          setQuery(String(new FormData(e.currentTarget as HTMLFormElement).get("q") ?? "").trim());
        }}
      >
        <input
          name="q"
          type="search"
          placeholder="mobile, username, nickname or uid"
          aria-label="Search users"
          maxLength={64}
        />
        <button type="submit">Search</button>
      </form>
      <Loading l={l}>
        {(d) => (
          <>
            <Table
              rows={d.list}
              rowKey={(u) => u.id}
              empty="No user matches."
              columns={[
                { title: "ID", cell: (u) => u.id },
                { title: "uid", cell: (u) => u.uid },
                { title: "Mobile", cell: (u) => u.mobile ?? "" },
                { title: "Username", cell: (u) => u.username ?? "" },
                { title: "Nickname", cell: (u) => u.nickname },
                { title: "Status", cell: (u) => <span data-status>{status(u)}</span> },
                { title: "Created", cell: (u) => when(u.createdAt) },
                {
                  title: "",
                  cell: (u) => (
                    <button type="button" data-action="edit" onClick={() => setEditing(u)}>
                      Manage
                    </button>
                  ),
                },
              ]}
            />
            <nav class="pager" aria-label="Pages of users">
              <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
                Previous
              </button>
              <span>
                page {page} of {Math.max(1, Math.ceil(d.total / size))} ({d.total} users)
              </span>
              <button type="button" disabled={page * size >= d.total} onClick={() => setPage(page + 1)}>
                Next
              </button>
            </nav>
          </>
        )}
      </Loading>
      {creating ? (
        <Dialog title="New user" onClose={() => setCreating(false)}>
          <Form
            name="new-user"
            submit="Create"
            onSubmit={async (v) => {
              const u = await act("User created", () =>
                api().admin<User>("POST", "/users", {
                  mobile: v.mobile || undefined,
                  username: v.username || undefined,
                  password: v.password,
                  nickname: v.nickname || undefined,
                  admin: v.admin === "1",
                  companyId: int(v.companyId),
                  deptId: int(v.deptId),
                  roleId: int(v.roleId),
                }),
              );
              if (u) {
                setCreating(false);
                l.reload();
              }
            }}
          >
            <Field label="Mobile (11 digits)" name="mobile" inputMode="numeric" pattern="1[0-9]{10}" />
            <Field label="Username" name="username" pattern="[A-Za-z0-9_.@\-]{2,64}" />
            <Field
              label="Password (6–128)"
              name="password"
              type="password"
              minLength={6}
              maxLength={128}
              required
              autoComplete="new-password"
            />
            <Field label="Nickname" name="nickname" maxLength={64} />
            <label class="check">
              <input type="checkbox" name="admin" /> Parley administrator
            </label>
            <Field label="Company id" name="companyId" inputMode="numeric" />
            <Field label="Department id" name="deptId" inputMode="numeric" />
            <Field label="Role id" name="roleId" inputMode="numeric" />
          </Form>
        </Dialog>
      ) : null}
      {editing ? (
        <EditUser
          user={editing}
          onClose={() => setEditing(null)}
          onChanged={(u) => {
            setEditing(u);
            l.reload();
          }}
        />
      ) : null}
    </Section>
  );
}

type OrgKind = "companies" | "departments" | "roles" | "licenses";
const ORG_NAME: Record<OrgKind, string> = {
  companies: "company",
  departments: "department",
  roles: "role",
  licenses: "licence",
};

/** The fields of one kind of org entry, shared by its add form and its edit dialog. */
function CompanyFields({ c }: { c?: Company }) {
  return (
    <>
      <Field label="Name" name="text" required maxLength={128} defaultValue={c?.text} />
      <Field label="Code" name="code" maxLength={64} defaultValue={c?.code} />
      <Field label="Licence id" name="licenseId" inputMode="numeric" defaultValue={String(c?.licenseId ?? "")} />
      <label class="check">
        <input type="checkbox" name="enable" defaultChecked={c?.enable ?? true} /> enabled
      </label>
    </>
  );
}
const companyBody = (v: Record<string, string>) => ({
  text: v.text,
  code: v.code,
  licenseId: orNull(v.licenseId),
  enable: v.enable === "1",
});

function LicenseFields({ l }: { l?: License }) {
  const n = (x: number | undefined) => (x === undefined ? undefined : String(x));
  return (
    <>
      <Field label="Text" name="text" required maxLength={128} defaultValue={l?.text} />
      <Field label="Max level" name="maxlevel" type="number" min={0} defaultValue={n(l?.maxlevel)} />
      <Field label="Single" name="single" type="number" min={0} defaultValue={n(l?.single)} />
      <Field label="User count" name="userCount" type="number" min={0} defaultValue={n(l?.userCount)} />
    </>
  );
}
const licenseBody = (v: Record<string, string>) => ({
  text: v.text,
  maxlevel: int(v.maxlevel),
  single: int(v.single),
  userCount: int(v.userCount),
});

function DeptFields({ d }: { d?: Department }) {
  return (
    <>
      <Field label="Name" name="text" required maxLength={128} defaultValue={d?.text} />
      <Field
        label="Parent department id (empty = top level)"
        name="parentId"
        inputMode="numeric"
        pattern="[0-9]*"
        defaultValue={String(d?.parentId ?? "")}
      />
      <Field label="Code" name="code" maxLength={64} defaultValue={d?.code} />
    </>
  );
}
const deptBody = (v: Record<string, string>) => ({ text: v.text, parentId: orNull(v.parentId), code: v.code });

function RoleFields({ r }: { r?: Role }) {
  return (
    <>
      <Field label="Role" name="text" required maxLength={128} defaultValue={r?.text} />
      <label class="check">
        <input type="checkbox" name="admin" defaultChecked={r?.admin ?? false} /> admin role
      </label>
    </>
  );
}
const roleBody = (v: Record<string, string>) => ({ text: v.text, admin: v.admin === "1" });

/**
 * Edit and Delete of one org entry: a dialog with its fields (`POST /org/<kind>/update`), and a
 * delete after confirmation (`POST /org/<kind>/delete`) — which the server refuses while users,
 * sub-departments or companies still refer to the entry; its message says what is left.
 */
function OrgActions(props: {
  kind: OrgKind;
  id: number;
  name: string;
  fields: ComponentChildren;
  body: (v: Record<string, string>) => object;
  onChanged: () => void;
  onDeleted?: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const what = ORG_NAME[props.kind];
  return (
    <span class="row-actions" data-org={`${props.kind}-${props.id}`}>
      <button type="button" data-action="edit-org" onClick={() => setEditing(true)}>
        Edit
      </button>
      <button
        type="button"
        class="danger"
        data-action="delete-org"
        onClick={async () => {
          if (!confirm(`Delete ${what} ${props.name} (#${props.id})?`)) return;
          const done = await act(
            `Deleted ${what} ${props.name}`,
            () => api().admin("POST", `/org/${props.kind}/delete`, { id: props.id }),
            `Cannot delete ${what} ${props.name}`,
          );
          if (!done) return;
          props.onDeleted?.();
          props.onChanged();
        }}
      >
        Delete
      </button>
      {editing ? (
        <Dialog title={`Edit ${what} ${props.name} (#${props.id})`} onClose={() => setEditing(false)}>
          <Form
            name={`edit-${props.kind}`}
            submit="Save"
            onSubmit={async (v) => {
              const done = await act(`Saved ${what}`, () =>
                api().admin("POST", `/org/${props.kind}/update`, { id: props.id, ...props.body(v) }),
              );
              if (done) {
                setEditing(false);
                props.onChanged();
              }
            }}
          >
            {props.fields}
          </Form>
        </Dialog>
      ) : null}
    </span>
  );
}

/** An add form of one kind of org entry: resets and reloads once the server took it. */
function AddForm(props: {
  kind: OrgKind;
  name: string;
  submit: string;
  body: (v: Record<string, string>) => object;
  onAdded: () => void;
  children: ComponentChildren;
}) {
  return (
    <Form
      name={props.name}
      submit={props.submit}
      onSubmit={async (v, f) => {
        const done = await act(`Added ${ORG_NAME[props.kind]}`, () =>
          api().admin("POST", `/org/${props.kind}`, props.body(v)),
        );
        if (done) {
          f.reset();
          props.onAdded();
        }
      }}
    >
      {props.children}
    </Form>
  );
}

interface TreeNode {
  d: Department;
  kids: TreeNode[];
}
function tree(list: Department[]): TreeNode[] {
  const by = new Map<number, TreeNode>(list.map((d) => [d.id, { d, kids: [] }]));
  const roots: TreeNode[] = [];
  for (const n of by.values()) {
    const p = n.d.parentId === null ? undefined : by.get(n.d.parentId);
    (p ? p.kids : roots).push(n);
  }
  return roots;
}
function DeptTree({ nodes, onChanged }: { nodes: TreeNode[]; onChanged: () => void }) {
  return (
    <ul class="tree">
      {nodes.map((n) => (
        <li key={n.d.id} data-dept={n.d.id}>
          <span>
            <span data-dept-name>{n.d.text}</span>{" "}
            <small class="hint">
              #{n.d.id} · {n.d.userCount} users
            </small>{" "}
            <OrgActions
              kind="departments"
              id={n.d.id}
              name={n.d.text}
              fields={<DeptFields d={n.d} />}
              body={deptBody}
              onChanged={onChanged}
            />
          </span>
          {n.kids.length ? <DeptTree nodes={n.kids} onChanged={onChanged} /> : null}
        </li>
      ))}
    </ul>
  );
}

function Org() {
  const companies = useLoad(() => api().admin<Company[]>("GET", "/org/companies"), []);
  const licenses = useLoad(() => api().admin<License[]>("GET", "/org/licenses"), []);
  const [company, setCompany] = useState<number | null>(null);
  const depts = useLoad(
    async () =>
      company === null ? [] : await api().admin<Department[]>("GET", "/org/departments", { companyId: company }),
    [company],
  );
  const roles = useLoad(
    async () => (company === null ? [] : await api().admin<Role[]>("GET", "/org/roles", { companyId: company })),
    [company],
  );
  const companyChanged = () => {
    companies.reload();
    licenses.reload();
  };
  return (
    <Section title="Organisation" id="org">
      <div class="grid2">
        <div>
          <h3>Companies</h3>
          <Loading l={companies}>
            {(cs) => (
              <Table
                rows={cs}
                rowKey={(c) => String(c.id)}
                selected={String(company)}
                columns={[
                  { title: "ID", cell: (c) => String(c.id) },
                  { title: "Name", cell: (c) => c.text },
                  { title: "Code", cell: (c) => c.code },
                  { title: "Licence", cell: (c) => String(c.licenseId ?? "") },
                  { title: "Enabled", cell: (c) => yesNo(c.enable) },
                  {
                    title: "",
                    cell: (c) => (
                      <span class="row-actions">
                        <button type="button" onClick={() => setCompany(c.id)} aria-pressed={company === c.id}>
                          Open
                        </button>
                        <OrgActions
                          kind="companies"
                          id={c.id}
                          name={c.text}
                          fields={<CompanyFields c={c} />}
                          body={companyBody}
                          onChanged={companyChanged}
                          onDeleted={() => {
                            if (company === c.id) setCompany(null);
                          }}
                        />
                      </span>
                    ),
                  },
                ]}
              />
            )}
          </Loading>
          <AddForm
            kind="companies"
            name="new-company"
            submit="Add company"
            body={companyBody}
            onAdded={companies.reload}
          >
            <CompanyFields />
          </AddForm>
        </div>
        <div>
          <h3>Licences</h3>
          <Loading l={licenses}>
            {(ls) => (
              <Table
                rows={ls}
                rowKey={(x) => String(x.id)}
                columns={[
                  { title: "ID", cell: (x) => String(x.id) },
                  { title: "Text", cell: (x) => x.text },
                  { title: "Max level", cell: (x) => String(x.maxlevel) },
                  { title: "Single", cell: (x) => String(x.single) },
                  { title: "Users", cell: (x) => String(x.userCount) },
                  {
                    title: "",
                    cell: (x) => (
                      <OrgActions
                        kind="licenses"
                        id={x.id}
                        name={x.text}
                        fields={<LicenseFields l={x} />}
                        body={licenseBody}
                        onChanged={licenses.reload}
                      />
                    ),
                  },
                ]}
              />
            )}
          </Loading>
          <AddForm kind="licenses" name="new-license" submit="Add licence" body={licenseBody} onAdded={licenses.reload}>
            <LicenseFields />
          </AddForm>
        </div>
      </div>
      {company !== null ? (
        <div class="grid2" data-company={company}>
          <div>
            <h3>Departments</h3>
            <Loading l={depts}>
              {(ds) =>
                ds.length ? <DeptTree nodes={tree(ds)} onChanged={depts.reload} /> : <p class="hint">No department.</p>
              }
            </Loading>
            <AddForm
              kind="departments"
              name="new-dept"
              submit="Add department"
              body={(v) => ({ companyId: company, ...deptBody(v) })}
              onAdded={depts.reload}
            >
              <DeptFields />
            </AddForm>
          </div>
          <div>
            <h3>Roles</h3>
            <Loading l={roles}>
              {(rs) => (
                <Table
                  rows={rs}
                  rowKey={(r) => String(r.id)}
                  columns={[
                    { title: "ID", cell: (r) => String(r.id) },
                    { title: "Role", cell: (r) => r.text },
                    { title: "Admin", cell: (r) => yesNo(r.admin) },
                    {
                      title: "",
                      cell: (r) => (
                        <OrgActions
                          kind="roles"
                          id={r.id}
                          name={r.text}
                          fields={<RoleFields r={r} />}
                          body={roleBody}
                          onChanged={roles.reload}
                        />
                      ),
                    },
                  ]}
                />
              )}
            </Loading>
            <AddForm
              kind="roles"
              name="new-role"
              submit="Add role"
              body={(v) => ({ companyId: company, ...roleBody(v) })}
              onAdded={roles.reload}
            >
              <RoleFields />
            </AddForm>
          </div>
        </div>
      ) : null}
    </Section>
  );
}

function Outbox() {
  const [mobile, setMobile] = useState("");
  const l = useLoad(() => api().admin<SmsRow[]>("GET", "/sms/outbox", { mobile, limit: 50 }), [mobile], 5000);
  return (
    <Section title="SMS outbox" id="outbox">
      <form
        class="search"
        onSubmit={(e) => {
          e.preventDefault();
          setMobile(String(new FormData(e.currentTarget as HTMLFormElement).get("mobile") ?? "").trim());
        }}
      >
        <input name="mobile" inputMode="numeric" placeholder="mobile" aria-label="Filter by mobile" maxLength={11} />
        <button type="submit">Filter</button>
      </form>
      <Loading l={l}>
        {(rows) => (
          <Table
            rows={rows}
            rowKey={(r) => `${r.mobile}-${r.sentAt}-${r.code}`}
            empty="Nothing sent (only the log sender records codes)."
            columns={[
              { title: "Mobile", cell: (r) => r.mobile },
              { title: "Code", cell: (r) => r.code },
              { title: "Sent", cell: (r) => when(r.sentAt) },
            ]}
          />
        )}
      </Loading>
    </Section>
  );
}

interface AdminSession {
  id: string;
  userId: string;
  username: string | null;
  nickname: string;
  createdAt: number;
  expiresAt: number;
  ip: string;
  userAgent: string;
  current: boolean;
}

/** Signed-in admin users (branch adminapi's `/admin/api/sessions`): each can be ended here. */
function AdminSessions() {
  const l = useLoad(() => optional(() => api().admin<AdminSession[]>("GET", "/sessions")), []);
  return (
    <Section title="Admin sessions" id="admin-sessions">
      <Loading l={l}>
        {(rows) =>
          rows === null ? (
            <p class="hint">Needs GET /admin/api/sessions (not on this server yet).</p>
          ) : (
            <Table
              rows={rows}
              rowKey={(r) => r.id}
              empty="No admin user is signed in (the admin token is not a session)."
              columns={[
                { title: "User", cell: (r) => `${r.nickname} (${r.username ?? r.userId})${r.current ? " — you" : ""}` },
                { title: "From", cell: (r) => `${r.ip} ${r.userAgent}` },
                { title: "Since", cell: (r) => when(r.createdAt) },
                { title: "Expires", cell: (r) => when(r.expiresAt) },
                {
                  title: "",
                  cell: (r) => (
                    <button
                      type="button"
                      class="danger"
                      data-action="end-admin-session"
                      onClick={async () => {
                        await act("Admin session ended", () => api().admin("POST", "/sessions/revoke", { id: r.id }));
                        l.reload();
                      }}
                    >
                      End
                    </button>
                  ),
                },
              ]}
            />
          )
        }
      </Loading>
    </Section>
  );
}

export function People() {
  return (
    <>
      <Users />
      <Org />
      <Outbox />
      <AdminSessions />
    </>
  );
}
