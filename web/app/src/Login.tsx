import { useEffect, useState } from "preact/hooks";
import { Chat33Error } from "../../sdk/types.ts";
import { currentLang, setLang, t } from "./i18n.ts";
import { model } from "./model.ts";

type Mode = "password" | "code" | "sms";

/**
 * Sign in by password or by SMS code, or sign up with an SMS code (the `log` sender's outbox works
 * locally); or a guest.
 */
export function Login({ onLang }: { onLang: () => void }) {
  const [mode, setMode] = useState<Mode>("password");
  const [mobile, setMobile] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [wait, setWait] = useState(0);

  useEffect(() => {
    if (wait <= 0) return;
    const id = setTimeout(() => setWait(wait - 1), 1000);
    return () => clearTimeout(id);
  }, [wait]);

  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError("");
    try {
      await fn();
    } catch (e) {
      // an unknown number on the code login: say so, and offer the sign-up with the same number
      if (e instanceof Chat33Error && e.code === -2001 && mode === "code") {
        setError(t("notRegistered"));
        setMode("sms");
      } else setError(e instanceof Chat33Error ? e.message : t("error"));
    } finally {
      setBusy(false);
    }
  };

  const submit = (ev: Event) => {
    ev.preventDefault();
    run(() =>
      mode === "password"
        ? model.loginPassword(mobile.trim(), password)
        : mode === "code"
          ? model.loginSms(mobile.trim(), code.trim())
          : model.register(mobile.trim(), password, code.trim()),
    );
  };

  const getCode = () =>
    run(async () => {
      await model.api.sendSms(mobile.trim());
      setWait(60);
    });

  return (
    <main class="login">
      <form class="login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Parley</h1>
        <div class="seg" role="tablist">
          {(
            [
              ["password", "passwordLogin"],
              ["code", "codeLogin"],
              ["sms", "smsRegister"],
            ] as const
          ).map(([m, label]) => (
            <button
              type="button"
              role="tab"
              key={m}
              data-mode={m}
              aria-selected={mode === m}
              class={mode === m ? "on" : ""}
              onClick={() => {
                setMode(m);
                setError("");
              }}
            >
              {t(label)}
            </button>
          ))}
        </div>
        <label>
          {t("mobile")}
          <input
            name="mobile"
            inputMode="numeric"
            autoComplete="username"
            value={mobile}
            onInput={(e) => setMobile(e.currentTarget.value)}
            required
          />
        </label>
        {mode !== "password" && (
          <label>
            {t("code")}
            <span class="row">
              <input
                name="code"
                inputMode="numeric"
                autoComplete="one-time-code"
                value={code}
                onInput={(e) => setCode(e.currentTarget.value)}
                required
              />
              <button type="button" class="ghost" disabled={busy || wait > 0 || !mobile} onClick={getCode}>
                {wait > 0 ? t("resendIn", { n: wait }) : t("getCode")}
              </button>
            </span>
          </label>
        )}
        {mode !== "code" && (
          <label>
            {t("password")}
            <input
              name="password"
              type="password"
              autoComplete={mode === "sms" ? "new-password" : "current-password"}
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
              required
            />
          </label>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {mode === "sms" ? t("register") : t("signIn")}
        </button>
        <button type="button" class="link" onClick={() => run(() => model.startGuest())}>
          {t("guest")}
        </button>
        <button
          type="button"
          class="link small"
          onClick={() => {
            setLang(currentLang() === "zh" ? "en" : "zh");
            onLang();
          }}
        >
          {currentLang() === "zh" ? "English" : "中文"}
        </button>
      </form>
    </main>
  );
}
