import { useState } from "preact/hooks";
import { optional } from "../api.ts";
import { session } from "../session.ts";
import { act, Field, Form, Loading, Section, Table, useLoad, when } from "../ui.tsx";

const api = () => session()!.api;

/** The push gateway (seed 000) as the operator sees it: `/admin/api/gateway/*` (branch adminapi). */
interface SystemRow {
  systemId: string;
  hasSecret: boolean;
  createdAt?: number;
  online?: number;
}

function Online({ systemId }: { systemId: string }) {
  const [group, setGroup] = useState("");
  const l = useLoad(
    () => api().admin<{ count: number; list: string[] }>("GET", "/gateway/online", { systemId, groupName: group }),
    [systemId, group],
    3000,
  );
  return (
    <div class="detail" data-system={systemId}>
      <h3>Online clients of {systemId}</h3>
      <form
        class="search"
        onSubmit={(e) => {
          e.preventDefault();
          setGroup(String(new FormData(e.currentTarget as HTMLFormElement).get("group") ?? "").trim());
        }}
      >
        <input name="group" placeholder="group name (empty = all)" aria-label="Group name" maxLength={256} />
        <button type="submit">Show</button>
      </form>
      <Loading l={l}>
        {(d) => (
          <>
            <p>
              <strong data-online-count>{d.count}</strong> online{group ? ` in ${group}` : ""}
            </p>
            <Table
              rows={d.list}
              rowKey={(c) => c}
              empty="No client online."
              columns={[{ title: "clientId", cell: (c) => c }]}
            />
          </>
        )}
      </Loading>
      <h4>Test push</h4>
      <Form
        name="gateway-push"
        submit="Send"
        onSubmit={async (v) => {
          let data: unknown = v.data;
          try {
            data = JSON.parse(v.data);
          } catch {
            // plain text is sent as a string
          }
          const target = v.target.trim();
          const body = {
            systemId,
            sendUserId: v.sendUserId || "admin",
            code: Number(v.code || 0),
            msg: v.msg || "test",
            data,
            ...(v.toGroup ? { groupName: target } : { clientId: target }),
          };
          const r = await act("Pushed", () => api().admin<{ messageId: string }>("POST", "/gateway/push", body));
          if (r) l.reload();
        }}
      >
        <Field label="clientId or group name" name="target" required maxLength={256} />
        <label class="check">
          <input type="checkbox" name="toGroup" /> send to the group (send_to_group) instead of one client
          (send_to_client)
        </label>
        <Field label="sendUserId" name="sendUserId" maxLength={256} placeholder="admin" />
        <Field label="code" name="code" type="number" defaultValue="0" />
        <Field label="msg" name="msg" maxLength={4096} defaultValue="test" />
        <Field label="data (JSON or text)" name="data" maxLength={4096} defaultValue='{"hello":"world"}' />
      </Form>
    </div>
  );
}

export function Gateway() {
  const l = useLoad(
    () => optional(() => api().admin<SystemRow[] | { list: SystemRow[] }>("GET", "/gateway/systems")),
    [],
  );
  const [sys, setSys] = useState<string | null>(null);
  return (
    <Section title="Registered systems" id="systems">
      <Loading l={l}>
        {(d) => {
          if (d === null) return <p class="hint">Needs GET /admin/api/gateway/systems (not on this server yet).</p>;
          const rows = Array.isArray(d) ? d : d.list;
          return (
            <Table
              rows={rows}
              rowKey={(r) => r.systemId}
              selected={sys ?? undefined}
              empty="No system registered (POST /api/register)."
              columns={[
                { title: "System", cell: (r) => r.systemId },
                { title: "Secret", cell: (r) => (r.hasSecret ? "with secret" : "without") },
                { title: "Online", cell: (r) => String(r.online ?? "") },
                { title: "Registered", cell: (r) => when(r.createdAt ?? 0) },
                {
                  title: "",
                  cell: (r) => (
                    <button type="button" onClick={() => setSys(r.systemId)} aria-pressed={sys === r.systemId}>
                      Open
                    </button>
                  ),
                },
              ]}
            />
          );
        }}
      </Loading>
      {l.data !== null ? (
        <Form
          name="new-system"
          class="inline-form"
          submit="Register system"
          onSubmit={async (v, f) => {
            const r = await act("System registered", () =>
              api().admin("POST", "/gateway/systems", {
                systemId: v.systemId,
                ...(v.secret ? { secret: v.secret } : {}),
              }),
            );
            if (r) {
              f.reset();
              l.reload();
            }
          }}
        >
          <Field label="System id" name="systemId" required maxLength={128} pattern="[^\s]+" />
          <Field
            label="Secret (optional, 16–256)"
            name="secret"
            type="password"
            minLength={16}
            maxLength={256}
            autoComplete="off"
          />
        </Form>
      ) : null}
      {sys ? <Online key={sys} systemId={sys} /> : null}
      <p class="hint">Secrets are stored hashed; the console shows only whether a system has one.</p>
    </Section>
  );
}
