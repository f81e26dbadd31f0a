import { useEffect, useRef, useState } from "preact/hooks";
import { type ConvKey, convKey } from "../../sdk/store.ts";
import type { Log, RedPacketRecord, SearchResult } from "../../sdk/types.ts";
import { Avatar, Badge, Modal } from "./common.tsx";
import { currentLang, setLang, t } from "./i18n.ts";
import { useModel } from "./model.ts";

function preview(l: Log | null): string {
  if (!l) return "";
  if (l.msgType === 4) return `[${t("redPacket")}] ${String(l.msg.remark ?? "")}`;
  if (l.msgType === 3) return "[🖼]";
  const c = l.msg.content;
  return typeof c === "string" ? c : "";
}

/** Conversations: pinned first, then newest; unread badges (grey on do-not-disturb). */
export function ConversationList() {
  const m = useModel();
  const convs = [...(m.store?.conversations.values() ?? [])].filter(
    (c) => c.type !== 1 && (c.last || c.type === 2) && (c.type === 3 ? m.friends.has(c.id) : m.groups.has(c.id)),
  );
  convs.sort(
    (a, b) => Number(m.pinned(b.key)) - Number(m.pinned(a.key)) || (b.last?.datetime ?? 0) - (a.last?.datetime ?? 0),
  );
  if (!convs.length) return <p class="hint pad">{t("selectChat")}</p>;
  return (
    <ul class="list" aria-label={t("chats")}>
      {convs.map((c) => {
        const { name, avatar } = m.nameOf(c.key);
        return (
          <li key={c.key}>
            <button
              type="button"
              class={`item${m.open === c.key ? " active" : ""}`}
              data-conv={c.key}
              aria-current={m.open === c.key}
              onClick={() => m.openConversation(c.key)}
            >
              <Avatar name={name} src={avatar} />
              <span class="grow">
                <span class="title">
                  {m.pinned(c.key) && <span aria-hidden="true">📌 </span>}
                  {name}
                </span>
                <span class="sub">{preview(c.last)}</span>
              </span>
              <Badge n={c.unread} muted={m.muted(c.key)} />
            </button>
          </li>
        );
      })}
    </ul>
  );
}

/** Search by markId, friend requests, group applications, friends, groups, new group. */
export function Contacts() {
  const m = useModel();
  const [q, setQ] = useState("");
  const [found, setFound] = useState<SearchResult | null | "none">(null);
  const [creating, setCreating] = useState(false);
  const search = async (e: Event) => {
    e.preventDefault();
    if (!q.trim()) return;
    try {
      setFound(await m.api.search(q.trim()));
    } catch {
      setFound("none");
    }
  };
  const waiting = m.requests.filter((r) => r.isSender === 2 && r.status === 1);
  return (
    <div class="contacts">
      <form class="search" onSubmit={search}>
        <input
          aria-label={t("search")}
          placeholder={t("search")}
          value={q}
          onInput={(e) => setQ(e.currentTarget.value)}
        />
        <button type="submit">{t("searchBtn")}</button>
      </form>
      {found === "none" && <p class="hint pad">{t("noResults")}</p>}
      {found && found !== "none" && <SearchCard r={found} />}
      {waiting.length > 0 && (
        <section>
          <h3>
            {t("friendRequests")} <Badge n={waiting.length} />
          </h3>
          <ul class="list">
            {waiting.map((r) => (
              <li key={r.id} class="item static" data-request={r.id}>
                <Avatar name={r.username} src={r.avatar} />
                <span class="grow">
                  <span class="title">{r.username}</span>
                  <span class="sub">{r.reason}</span>
                </span>
                <button
                  type="button"
                  class="primary small"
                  onClick={() => m.attempt(() => m.api.answerFriend(r.id, true)).then(() => m.loadDirectory())}
                >
                  {t("accept")}
                </button>
                <button
                  type="button"
                  class="small"
                  onClick={() => m.attempt(() => m.api.answerFriend(r.id, false)).then(() => m.loadDirectory())}
                >
                  {t("refuse")}
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {m.applications.length > 0 && (
        <section>
          <h3>
            {t("groupApplications")} <Badge n={m.applications.length} />
          </h3>
          <ul class="list">
            {m.applications.map((a) => (
              <li key={a.id} class="item static" data-application={a.id}>
                <Avatar name={a.senderInfo.name} src={a.senderInfo.avatar} />
                <span class="grow">
                  <span class="title">{a.senderInfo.name}</span>
                  <span class="sub">
                    → {a.receiveInfo.name} {a.applyReason}
                  </span>
                </span>
                {a.senderInfo.id !== m.me?.id && (
                  <>
                    <button
                      type="button"
                      class="primary small"
                      onClick={() =>
                        m
                          .attempt(() => m.api.approveJoin(a.receiveInfo.id, a.senderInfo.id, true))
                          .then(() => m.loadDirectory())
                      }
                    >
                      {t("accept")}
                    </button>
                    <button
                      type="button"
                      class="small"
                      onClick={() =>
                        m
                          .attempt(() => m.api.approveJoin(a.receiveInfo.id, a.senderInfo.id, false))
                          .then(() => m.loadDirectory())
                      }
                    >
                      {t("refuse")}
                    </button>
                  </>
                )}
              </li>
            ))}
          </ul>
        </section>
      )}
      <section>
        <h3 class="row">
          <span class="grow">{t("groups")}</span>
          <button type="button" class="small" onClick={() => setCreating(true)}>
            + {t("createGroup")}
          </button>
        </h3>
        <ul class="list">
          {[...m.groups.values()].map((g) => (
            <li key={g.id}>
              <button type="button" class="item" data-group={g.id} onClick={() => openTab(m, convKey(2, g.id))}>
                <Avatar name={g.name} src={g.avatar} />
                <span class="grow">
                  <span class="title">{g.name}</span>
                  <span class="sub">
                    {t("markId")} {g.markId}
                  </span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      </section>
      <section>
        <h3>{t("friends")}</h3>
        <ul class="list">
          {[...m.friends.values()].map((f) => (
            <li key={f.id}>
              <button type="button" class="item" data-friend={f.id} onClick={() => openTab(m, convKey(3, f.id))}>
                <Avatar name={f.name} src={f.avatar} />
                <span class="grow">
                  <span class="title">{f.remark || f.name}</span>
                  {f.remark && <span class="sub">{f.name}</span>}
                </span>
              </button>
            </li>
          ))}
        </ul>
      </section>
      {creating && <CreateGroup onClose={() => setCreating(false)} />}
    </div>
  );
}

function openTab(m: ReturnType<typeof useModel>, key: ConvKey) {
  m.tab = "chats";
  m.openConversation(key);
}

function SearchCard({ r }: { r: SearchResult }) {
  const m = useModel();
  const [sent, setSent] = useState(false);
  if (r.type === 2 && r.userInfo) {
    const u = r.userInfo;
    const isFriend = m.friends.has(u.id);
    return (
      <div class="item static card" data-found-user={u.id}>
        <Avatar name={u.name} src={u.avatar} />
        <span class="grow title">{u.name}</span>
        {isFriend ? (
          <button type="button" class="small" onClick={() => openTab(m, convKey(3, u.id))}>
            {t("chats")}
          </button>
        ) : u.id !== m.me?.id ? (
          <button
            type="button"
            class="primary small"
            disabled={sent}
            onClick={async () => {
              if ((await m.attempt(() => m.api.addFriend(u.id, m.me?.username ?? ""))) !== undefined) setSent(true);
            }}
          >
            {sent ? t("requestSent") : t("addFriend")}
          </button>
        ) : null}
      </div>
    );
  }
  if (r.type === 1 && r.roomInfo) {
    const g = r.roomInfo;
    const member = m.groups.has(g.id);
    return (
      <div class="item static card" data-found-group={g.id}>
        <Avatar name={g.name} src={g.avatar} />
        <span class="grow title">{g.name}</span>
        {member ? (
          <button type="button" class="small" onClick={() => openTab(m, convKey(2, g.id))}>
            {t("chats")}
          </button>
        ) : (
          <button
            type="button"
            class="primary small"
            disabled={sent}
            onClick={async () => {
              if ((await m.attempt(() => m.api.applyJoin(g.id, ""))) !== undefined) {
                setSent(true);
                await m.loadDirectory();
              }
            }}
          >
            {sent ? t("requestSent") : t("applyJoin")}
          </button>
        )}
      </div>
    );
  }
  return null;
}

function CreateGroup({ onClose }: { onClose: () => void }) {
  const m = useModel();
  const [name, setName] = useState("");
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const submit = async (e: Event) => {
    e.preventDefault();
    const r = await m.attempt(() => m.api.createGroup([...picked], name.trim() || undefined));
    if (!r) return;
    await m.loadDirectory();
    onClose();
    openTab(m, convKey(2, r.roomId));
  };
  return (
    <Modal title={t("createGroup")} onClose={onClose}>
      <form class="stack" onSubmit={submit}>
        <label>
          {t("groupName")}
          <input name="groupName" value={name} maxLength={32} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <fieldset>
          <legend>{t("friends")}</legend>
          {[...m.friends.values()].map((f) => (
            <label key={f.id} class="check">
              <input
                type="checkbox"
                checked={picked.has(f.id)}
                data-pick={f.id}
                onChange={(e) => {
                  const next = new Set(picked);
                  if (e.currentTarget.checked) next.add(f.id);
                  else next.delete(f.id);
                  setPicked(next);
                }}
              />
              {f.remark || f.name}
            </label>
          ))}
        </fieldset>
        <button type="submit" class="primary">
          {t("create")}
        </button>
      </form>
    </Modal>
  );
}

/** Chat rooms (open rooms, also for guests). */
export function Rooms() {
  const m = useModel();
  useEffect(() => {
    m.loadRooms().catch(() => {});
  }, []);
  return (
    <ul class="list" aria-label={t("rooms")}>
      {m.rooms.map((r) => (
        <li key={r.groupId}>
          <button
            type="button"
            class={`item${m.open === convKey(1, r.groupId) ? " active" : ""}`}
            data-room={r.groupId}
            onClick={() => m.openConversation(convKey(1, r.groupId))}
          >
            <Avatar name={r.groupName} src={r.avatar} />
            <span class="grow">
              <span class="title">{r.groupName}</span>
              <span class="sub">{r.description || t("audience", { n: r.totalNumber })}</span>
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}

/** Profile: nickname, avatar, ID, balance, language, sign out. */
export function Me({ onLang }: { onLang: () => void }) {
  const m = useModel();
  const [nickname, setNickname] = useState(m.me?.username ?? "");
  const [avatar, setAvatar] = useState(m.me?.avatar ?? "");
  const [balance, setBalance] = useState<Array<{ coin: number; amount: number }>>([]);
  const [records, setRecords] = useState<RedPacketRecord | null>(null);
  const picker = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (m.guest) return;
    m.api
      .balance()
      .then(setBalance)
      .catch(() => {});
    const now = new Date();
    m.api
      .redPacketRecord(`${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}`)
      .then(setRecords)
      .catch(() => {});
  }, []);
  if (m.guest)
    return (
      <div class="stack pad">
        <button type="button" class="primary" onClick={() => location.reload()}>
          {t("signIn")}
        </button>
        <LangSwitch onLang={onLang} />
      </div>
    );
  const save = async (e: Event) => {
    e.preventDefault();
    if (nickname.trim() && nickname.trim() !== m.me?.username) {
      if ((await m.attempt(() => m.api.editNickname(nickname.trim()))) !== undefined && m.me)
        m.me.username = nickname.trim();
    }
    if (avatar !== (m.me?.avatar ?? "")) {
      if ((await m.attempt(() => m.api.editAvatar(avatar.trim()))) !== undefined && m.me) m.me.avatar = avatar.trim();
    }
    m.notify();
  };
  return (
    <form class="stack pad" onSubmit={save}>
      <div class="row">
        <Avatar name={m.me?.username ?? ""} src={m.me?.avatar} />
        <span class="grow">
          <strong>{m.me?.username}</strong>
          <br />
          <small>
            {t("markId")}: <span data-my-uid>{m.me?.uid}</span>
          </small>
        </span>
      </div>
      <label>
        {t("nickname")}
        <input name="nickname" value={nickname} maxLength={32} onInput={(e) => setNickname(e.currentTarget.value)} />
      </label>
      <label>
        {t("avatar")}
        <span class="row">
          <input
            name="avatar"
            value={avatar}
            maxLength={1024}
            placeholder="https://…"
            onInput={(e) => setAvatar(e.currentTarget.value)}
          />
          <button type="button" class="ghost" onClick={() => picker.current?.click()}>
            {t("uploadAvatar")}
          </button>
        </span>
        <input
          ref={picker}
          type="file"
          name="avatarFile"
          accept="image/png,image/jpeg,image/gif,image/webp"
          hidden
          onChange={async (e) => {
            const file = e.currentTarget.files?.[0];
            e.currentTarget.value = "";
            if (!file) return;
            const up = await m.attempt(() => m.api.uploadImage(file, file.name || "avatar"));
            if (up) setAvatar(up.thumbUrl);
          }}
        />
      </label>
      <button type="submit" class="primary">
        {t("save")}
      </button>
      <p data-balances>
        {t("balance")}:{" "}
        {(balance.length ? balance : [{ coin: 1, amount: 0 }]).map((b) => (
          <span key={b.coin} class="pill" data-coin={b.coin}>
            {b.amount} {b.coin === 2 ? "YCC" : "BTY"}
          </span>
        ))}
      </p>
      {records && (
        <section class="records" aria-label={t("packetRecords")}>
          <h3>
            {t("packetRecords")} · {t("recordsMonth")}
          </h3>
          <p class="small" data-records-received={records.receive_num}>
            {t("received", { n: records.receive_num, amount: records.receive_amount })}
          </p>
          <p class="small" data-records-sent={records.send_num}>
            {t("sentPackets", { n: records.send_num, amount: records.send_amount })}
          </p>
          {records.receive.length + records.send.length === 0 ? (
            <p class="small">{t("noRecords")}</p>
          ) : (
            <ul class="claims">
              {records.receive.map((r) => (
                <li key={`r${r.red_packet_id}`}>
                  <span>
                    🧧 {r.username} · {new Date(r.receive_time).toLocaleDateString()}
                  </span>
                  <span>+{r.amount}</span>
                </li>
              ))}
              {records.send.map((r) => (
                <li key={`s${r.red_packet_id}`}>
                  <span>🧧 {new Date(r.send_time).toLocaleDateString()}</span>
                  <span>−{r.amount}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      <LangSwitch onLang={onLang} />
      <button type="button" onClick={() => m.signOut()}>
        {t("signOut")}
      </button>
    </form>
  );
}

function LangSwitch({ onLang }: { onLang: () => void }) {
  return (
    <label>
      {t("language")}
      <select
        value={currentLang()}
        onChange={(e) => {
          setLang(e.currentTarget.value as "zh" | "en");
          onLang();
        }}
      >
        <option value="zh">中文</option>
        <option value="en">English</option>
      </select>
    </label>
  );
}
