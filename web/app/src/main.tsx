import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { Chat } from "./Chat.tsx";
import { Badge } from "./common.tsx";
import { currentLang, setLang, t } from "./i18n.ts";
import { Icon, type IconName } from "./icons.tsx";
import { Login } from "./Login.tsx";
import { type Tab, useModel } from "./model.ts";
import { FriendPanel, GroupPanel } from "./Panels.tsx";
import { Contacts, ConversationList, Me, Rooms } from "./Side.tsx";
import "./styles.css";

function App() {
  const m = useModel();
  const [, setLangRev] = useState(0);
  const onLang = () => setLangRev((n) => n + 1);
  useEffect(() => {
    setLang(currentLang());
    m.boot().catch(() => {
      m.booted = true;
      m.notify();
    });
  }, []);
  useEffect(() => {
    // the first screen (sign-in or the chats) is up and its handlers attached: measured by test/web-browser
    if (m.booted) performance.mark("parley:interactive");
  }, [m.booted]);
  const total = m.totalUnread;
  useEffect(() => {
    document.title = total > 0 ? `(${total}) Parley` : "Parley";
  }, [total]);

  if (!m.booted) return <div class="splash" aria-busy="true" />;
  if (!m.me && !m.guest) return <Login onLang={onLang} />;

  const requests = m.requests.filter((r) => r.isSender === 2 && r.status === 1).length + m.applications.length;
  const tabs: Array<{ id: Tab; label: string; icon: IconName; badge?: number }> = m.guest
    ? [
        { id: "rooms", label: t("rooms"), icon: "rooms" },
        { id: "me", label: t("me"), icon: "me" },
      ]
    : [
        { id: "chats", label: t("chats"), icon: "chats", badge: total },
        { id: "contacts", label: t("contacts"), icon: "contacts", badge: requests },
        { id: "rooms", label: t("rooms"), icon: "rooms" },
        { id: "me", label: t("me"), icon: "me" },
      ];
  return (
    <div class={`shell${m.open ? " has-open" : ""}`}>
      <nav class="rail" aria-label="Parley">
        {tabs.map((x) => (
          <button
            type="button"
            key={x.id}
            class={`tab${m.tab === x.id ? " on" : ""}`}
            data-tab={x.id}
            aria-current={m.tab === x.id}
            onClick={() => {
              m.tab = x.id;
              m.notify();
            }}
          >
            <Icon name={x.icon} />
            <span class="tab-label">{x.label}</span>
            {x.badge ? <Badge n={x.badge} /> : null}
          </button>
        ))}
      </nav>
      <aside class="side" aria-label={tabs.find((x) => x.id === m.tab)?.label}>
        <header class="side-head">
          <h1>{tabs.find((x) => x.id === m.tab)?.label}</h1>
          {m.conn !== "open" && <span class="conn">{t("offline")}</span>}
        </header>
        <div class="side-body">
          {m.tab === "chats" && <ConversationList />}
          {m.tab === "contacts" && <Contacts />}
          {m.tab === "rooms" && <Rooms />}
          {m.tab === "me" && <Me onLang={onLang} />}
        </div>
      </aside>
      <main class="main">
        {m.open ? <Chat convKey={m.open} key={m.open} /> : <p class="hint center">{t("selectChat")}</p>}
      </main>
      {m.open && m.panel === "group" && <GroupPanel convKey={m.open} />}
      {m.open && m.panel === "friend" && <FriendPanel convKey={m.open} />}
      <div class="toasts" role="status" aria-live="polite">
        {m.toasts.map((x) => (
          <div class="toast" key={x.id}>
            {x.text}
          </div>
        ))}
      </div>
    </div>
  );
}

render(<App />, document.getElementById("root") as HTMLElement);
