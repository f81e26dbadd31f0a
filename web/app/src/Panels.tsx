import { useEffect, useState } from "preact/hooks";
import type { ConvKey } from "../../sdk/store.ts";
import type { Apply, GroupInfo } from "../../sdk/types.ts";
import { Avatar } from "./common.tsx";
import { t } from "./i18n.ts";
import { useModel } from "./model.ts";

/** Group settings: members with the owner's/admins' actions, invitations, applications, permissions. */
export function GroupPanel({ convKey }: { convKey: ConvKey }) {
  const m = useModel();
  const roomId = convKey.slice(2);
  const [info, setInfo] = useState<GroupInfo | null>(null);
  const [applies, setApplies] = useState<Apply[]>([]);
  const [invite, setInvite] = useState("");
  const reload = async () => {
    const g = await m.attempt(() => m.api.groupInfo(roomId));
    if (g) setInfo(g);
    if (g && g.memberLevel >= 2) {
      const a = await m.api.joinApplications(roomId).catch(() => ({ applyList: [] as Apply[] }));
      setApplies(a.applyList.filter((x) => x.status === 1));
    }
  };
  useEffect(() => {
    reload();
  }, [roomId, m.applications.length]);
  if (!info) return <aside class="panel" />;
  const me = info.memberLevel;
  const act = async (fn: () => Promise<unknown>) => {
    if ((await m.attempt(fn)) !== undefined) await reload();
  };
  const candidates = [...m.friends.values()].filter((f) => !info.users.some((u) => u.id === f.id));
  const setting = (on: boolean, kind: "dnd" | "top") =>
    act(async () => {
      await (kind === "dnd" ? m.api.setGroupDnd(roomId, on) : m.api.setGroupTop(roomId, on));
      await m.loadDirectory();
    });
  return (
    <aside class="panel" aria-label={t("settings")}>
      <ClosePanel />
      <h3>{info.name}</h3>
      <p class="small">
        {t("markId")} {info.markId} · {t("memberCount", { n: info.memberNumber })} ·{" "}
        {t("online", { n: info.onlineNumber })}
      </p>
      <label class="check">
        <input
          type="checkbox"
          checked={info.noDisturbing === 1}
          onChange={(e) => setting(e.currentTarget.checked, "dnd")}
        />
        {t("dnd")}
      </label>
      <label class="check">
        <input type="checkbox" checked={info.onTop === 1} onChange={(e) => setting(e.currentTarget.checked, "top")} />
        {t("top")}
      </label>
      {me >= 2 && (
        <label>
          {t("joinPermission")}
          <select
            value={String(info.joinPermission)}
            onChange={(e) =>
              act(() =>
                m.api.setGroupPermission(roomId, { joinPermission: Number(e.currentTarget.value) as 1 | 2 | 3 }),
              )
            }
          >
            <option value="1">{t("joinApproval")}</option>
            <option value="2">{t("joinFree")}</option>
            <option value="3">{t("joinClosed")}</option>
          </select>
        </label>
      )}
      {applies.length > 0 && (
        <section>
          <h4>{t("groupApplications")}</h4>
          {applies.map((a) => (
            <div class="item static" key={a.id} data-application={a.id}>
              <span class="grow">{a.senderInfo.name}</span>
              <button
                type="button"
                class="primary small"
                onClick={() => act(() => m.api.approveJoin(roomId, a.senderInfo.id, true))}
              >
                {t("accept")}
              </button>
              <button
                type="button"
                class="small"
                onClick={() => act(() => m.api.approveJoin(roomId, a.senderInfo.id, false))}
              >
                {t("refuse")}
              </button>
            </div>
          ))}
        </section>
      )}
      {candidates.length > 0 && (
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (invite) act(() => m.api.invite(roomId, [invite]));
          }}
        >
          <select aria-label={t("invite")} value={invite} onChange={(e) => setInvite(e.currentTarget.value)}>
            <option value="">—</option>
            {candidates.map((f) => (
              <option key={f.id} value={f.id}>
                {f.remark || f.name}
              </option>
            ))}
          </select>
          <button type="submit" class="small">
            {t("invite")}
          </button>
        </form>
      )}
      <h4>{t("members")}</h4>
      <ul class="list members">
        {info.users.map((u) => (
          <li key={u.id} class="item static" data-member={u.id}>
            <Avatar name={u.nickname} src={u.avatar} small />
            <span class="grow">
              {u.roomNickname || u.nickname}
              {u.memberLevel === 3 && <span class="pill">{t("owner")}</span>}
              {u.memberLevel === 2 && <span class="pill">{t("admin")}</span>}
            </span>
            {u.id !== m.me?.id && me > u.memberLevel && (
              <span class="member-actions">
                {me === 3 && (
                  <button
                    type="button"
                    class="small"
                    onClick={() => act(() => m.api.setLevel(roomId, u.id, u.memberLevel === 2 ? 1 : 2))}
                  >
                    {u.memberLevel === 2 ? t("removeAdmin") : t("makeAdmin")}
                  </button>
                )}
                {u.memberLevel === 1 && (
                  <button
                    type="button"
                    class="small"
                    onClick={() => act(() => m.api.muteMember(roomId, u.id, Date.now() + 10 * 60 * 1000))}
                  >
                    {t("mute10")}
                  </button>
                )}
                <button type="button" class="small danger" onClick={() => act(() => m.api.kick(roomId, [u.id]))}>
                  {t("kick")}
                </button>
              </span>
            )}
          </li>
        ))}
      </ul>
      {me === 3 ? (
        <button
          type="button"
          class="danger"
          onClick={() => {
            if (confirm(t("confirmDissolve"))) m.attempt(() => m.api.dissolveGroup(roomId));
          }}
        >
          {t("dissolve")}
        </button>
      ) : (
        <button type="button" class="danger" onClick={() => m.attempt(() => m.api.leaveGroup(roomId))}>
          {t("leaveGroup")}
        </button>
      )}
    </aside>
  );
}

/** Friend settings: remark, do-not-disturb, pin, remove. */
export function FriendPanel({ convKey }: { convKey: ConvKey }) {
  const m = useModel();
  const id = convKey.slice(2);
  const f = m.friends.get(id);
  const [remark, setRemark] = useState(f?.remark ?? "");
  if (!f) return <aside class="panel" />;
  const act = async (fn: () => Promise<unknown>) => {
    if ((await m.attempt(fn)) !== undefined) await m.loadDirectory();
  };
  return (
    <aside class="panel" aria-label={t("settings")}>
      <ClosePanel />
      <div class="row">
        <Avatar name={f.name} src={f.avatar} />
        <h3 class="grow">{f.name}</h3>
      </div>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          act(() => m.api.setRemark(id, remark.trim()));
        }}
      >
        <input
          aria-label={t("remark")}
          placeholder={t("remark")}
          value={remark}
          maxLength={64}
          onInput={(e) => setRemark(e.currentTarget.value)}
        />
        <button type="submit" class="small">
          {t("save")}
        </button>
      </form>
      <label class="check">
        <input
          type="checkbox"
          checked={f.noDisturbing === 1}
          onChange={(e) => act(() => m.api.setFriendDnd(id, e.currentTarget.checked))}
        />
        {t("dnd")}
      </label>
      <label class="check">
        <input
          type="checkbox"
          checked={f.onTop === 1}
          onChange={(e) => act(() => m.api.setFriendTop(id, e.currentTarget.checked))}
        />
        {t("top")}
      </label>
      <button
        type="button"
        class="danger"
        onClick={async () => {
          await act(() => m.api.deleteFriend(id));
          m.closeConversation();
        }}
      >
        {t("deleteFriend")}
      </button>
    </aside>
  );
}

function ClosePanel() {
  const m = useModel();
  return (
    <button
      type="button"
      class="link close-panel"
      onClick={() => {
        m.panel = null;
        m.notify();
      }}
    >
      ← {t("back")}
    </button>
  );
}
