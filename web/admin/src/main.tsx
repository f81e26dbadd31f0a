import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { errorText } from "./api.ts";
import { Cluster } from "./pages/cluster.tsx";
import { Conversations } from "./pages/conversations.tsx";
import { Dashboard } from "./pages/dashboard.tsx";
import { Fleet } from "./pages/fleet.tsx";
import { Gateway } from "./pages/gateway.tsx";
import { Money } from "./pages/money.tsx";
import { People } from "./pages/people.tsx";
import { onSession, session, signInAsUser, signInWithToken, signOut } from "./session.ts";
import { Notices } from "./ui.tsx";
import "./styles.css";

/** The pages, each at `/admin/<id>` (the server answers client routes with index.html). */
const PAGES = [
  { id: "dashboard", title: "Dashboard", view: Dashboard },
  { id: "people", title: "People", view: People },
  { id: "conversations", title: "Conversations", view: Conversations },
  { id: "gateway", title: "Gateway", view: Gateway },
  { id: "money", title: "Money", view: Money },
  { id: "cluster", title: "Cluster", view: Cluster },
  { id: "fleet", title: "Fleet", view: Fleet },
] as const;
type PageId = (typeof PAGES)[number]["id"];

function pageFromPath(): PageId {
  const seg = location.pathname.replace(/^\/admin\/?/, "").split("/")[0];
  return (PAGES.find((p) => p.id === seg)?.id ?? "dashboard") as PageId;
}

function SignIn() {
  const [mode, setMode] = useState<"token" | "user">("token");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.querySelector<HTMLInputElement>(".signin-box input")?.focus();
  }, [mode]);
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError("");
    try {
      if (mode === "token") await signInWithToken(String(f.get("token") ?? "").trim());
      else await signInAsUser(String(f.get("account") ?? "").trim(), String(f.get("password") ?? ""));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form class="signin-box" onSubmit={submit} data-form="signin">
        <h1>Parley admin</h1>
        <div class="switch" role="tablist" aria-label="Sign in with">
          <button type="button" role="tab" aria-selected={mode === "token"} onClick={() => setMode("token")}>
            Admin token
          </button>
          <button type="button" role="tab" aria-selected={mode === "user"} onClick={() => setMode("user")}>
            Admin user
          </button>
        </div>
        {mode === "token" ? (
          <label class="field">
            <span>Admin token</span>
            <input
              name="token"
              type="password"
              autoComplete="off"
              required
              spellcheck={false}
              aria-describedby="token-hint"
            />
            <small id="token-hint" class="hint">
              PARLEY_ADMIN_TOKEN, or the one printed at the first start. Kept in this tab's memory only.
            </small>
          </label>
        ) : (
          <>
            <label class="field">
              <span>Username or mobile</span>
              <input name="account" autoComplete="username" required />
            </label>
            <label class="field">
              <span>Password</span>
              <input name="password" type="password" autoComplete="current-password" required />
            </label>
          </>
        )}
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}

function Shell() {
  const [page, setPage] = useState<PageId>(pageFromPath());
  const [menu, setMenu] = useState(false);
  useEffect(() => {
    const onPop = () => setPage(pageFromPath());
    addEventListener("popstate", onPop);
    return () => removeEventListener("popstate", onPop);
  }, []);
  const current = PAGES.find((p) => p.id === page) ?? PAGES[0];
  useEffect(() => {
    document.title = `${current.title} · Parley admin`;
    document.querySelector<HTMLElement>("main h1")?.focus();
  }, [page]);
  const s = session();
  const View = current.view;
  return (
    <div class={`shell${menu ? " menu-open" : ""}`}>
      <header class="top">
        <button
          type="button"
          class="menu-button"
          aria-expanded={menu}
          aria-controls="nav"
          onClick={() => setMenu(!menu)}
        >
          ☰ <span class="sr">Menu</span>
        </button>
        <span class="brand">Parley admin</span>
        <span class="who" data-who={s?.kind}>
          {s?.kind === "session"
            ? `${s.user?.nickname ?? ""} (${s.user?.username ?? s.user?.mobile ?? ""})`
            : "admin token"}
        </span>
        <button type="button" class="signout" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <nav id="nav" class="nav" aria-label="Pages">
        {PAGES.map((p) => (
          <a
            key={p.id}
            href={`/admin/${p.id}`}
            data-page={p.id}
            aria-current={p.id === page ? "page" : undefined}
            onClick={(e) => {
              if (e.ctrlKey || e.metaKey || e.shiftKey) return;
              e.preventDefault();
              history.pushState(null, "", `/admin/${p.id}`);
              setPage(p.id);
              setMenu(false);
            }}
          >
            {p.title}
          </a>
        ))}
      </nav>
      <main class="page" data-current={page}>
        <h1 tabIndex={-1}>{current.title}</h1>
        <View key={page} />
      </main>
      <Notices />
    </div>
  );
}

function App() {
  const [, set] = useState(0);
  useEffect(() => onSession(() => set((n) => n + 1)), []);
  useEffect(() => {
    performance.mark("parley:admin-interactive");
  }, []);
  return session() ? <Shell /> : <SignIn />;
}

render(<App />, document.getElementById("root") as HTMLElement);
