import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { errorText } from "./api.ts";

/**
 * Small building blocks of the console's pages. Everything shown comes from the server and goes
 * into the DOM as text (Preact escapes it); nothing here ever sets HTML.
 */

// ---- notices (one live region for the whole page) ----
type Notice = { id: number; text: string; kind: "ok" | "error" };
let notices: Notice[] = [];
let noticeId = 0;
const noticeSubs = new Set<() => void>();
export function notify(text: string, kind: "ok" | "error" = "ok"): void {
  const n = { id: ++noticeId, text, kind };
  notices = [...notices, n].slice(-4);
  for (const f of noticeSubs) f();
  setTimeout(
    () => {
      notices = notices.filter((x) => x !== n);
      for (const f of noticeSubs) f();
    },
    kind === "error" ? 8000 : 4000,
  );
}
export function Notices() {
  const [, set] = useState(0);
  useEffect(() => {
    const f = () => set((n) => n + 1);
    noticeSubs.add(f);
    return () => void noticeSubs.delete(f);
  }, []);
  return (
    <div class="notices" role="status" aria-live="polite">
      {notices.map((n) => (
        <div key={n.id} class={`notice ${n.kind}`} data-notice={n.kind}>
          {n.text}
        </div>
      ))}
    </div>
  );
}

/** Runs an operator action: a notice on success, the server's message on failure (after `failing`). */
export async function act<T>(what: string, fn: () => Promise<T>, failing = what): Promise<T | undefined> {
  try {
    const r = await fn();
    notify(what);
    return r;
  } catch (e) {
    notify(`${failing}: ${errorText(e)}`, "error");
    return undefined;
  }
}

// ---- loading ----
export interface Loaded<T> {
  data: T | undefined;
  error: string;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `fn()` now, again when `deps` change and, with `everyMs`, on a timer while the page is
 * visible (the live views refresh without reloading the page).
 */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[], everyMs = 0): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState("");
  const [loading, setLoading] = useState(true);
  const [rev, setRev] = useState(0);
  const reload = useCallback(() => setRev((n) => n + 1), []);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      setLoading(true);
      try {
        const d = await fnRef.current();
        if (live) {
          setData(d);
          setError("");
        }
      } catch (e) {
        if (live) setError(errorText(e));
      } finally {
        if (live) setLoading(false);
        if (live && everyMs > 0) timer = setTimeout(run, document.hidden ? everyMs * 4 : everyMs);
      }
    };
    run();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [...deps, rev]);
  return { data, error, loading, reload };
}

export function Loading<T>({ l, children }: { l: Loaded<T>; children: (d: T) => ComponentChildren }) {
  if (l.error)
    return (
      <p class="error" role="alert">
        {l.error}{" "}
        <button type="button" onClick={l.reload}>
          Retry
        </button>
      </p>
    );
  if (l.data === undefined)
    return (
      <p class="hint" aria-busy="true">
        Loading…
      </p>
    );
  return <>{children(l.data)}</>;
}

// ---- layout ----
export function Section(props: {
  title: string;
  actions?: ComponentChildren;
  children: ComponentChildren;
  id?: string;
}) {
  return (
    <section class="card" aria-label={props.title} data-section={props.id}>
      <header class="card-head">
        <h2>{props.title}</h2>
        {props.actions ? <div class="card-actions">{props.actions}</div> : null}
      </header>
      {props.children}
    </section>
  );
}

export interface Column<T> {
  title: string;
  cell: (row: T) => ComponentChildren;
  class?: string;
}

/** A table of text; `rowKey` names each row (`data-row`), for the tests and for keyboard focus. */
export function Table<T>(props: {
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  empty?: string;
  caption?: string;
  selected?: string;
  onSelect?: (row: T) => void;
}) {
  if (props.rows.length === 0) return <p class="hint">{props.empty ?? "Nothing here."}</p>;
  return (
    <div class="table-wrap">
      <table>
        {props.caption ? <caption>{props.caption}</caption> : null}
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th key={c.title} scope="col" class={c.class}>
                {c.title}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => {
            const k = props.rowKey(r);
            return (
              <tr key={k} data-row={k} class={props.selected === k ? "selected" : undefined}>
                {props.columns.map((c) => (
                  <td key={c.title} class={c.class} data-label={c.title}>
                    {c.cell(r)}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** A labelled input. */
export function Field(props: {
  label: string;
  name: string;
  type?: string;
  required?: boolean;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  min?: number;
  max?: number;
  inputMode?: "numeric" | "decimal" | "text";
  defaultValue?: string;
  placeholder?: string;
  autoComplete?: string;
}) {
  const { label, ...rest } = props;
  return (
    <label class="field">
      <span>{label}</span>
      <input {...(rest as Record<string, unknown>)} />
    </label>
  );
}

/** A form whose fields are read by name on submit; `busy` while the action runs. */
export function Form(props: {
  onSubmit: (values: Record<string, string>, form: HTMLFormElement) => Promise<unknown> | unknown;
  submit: string;
  children: ComponentChildren;
  class?: string;
  name?: string;
}) {
  const [busy, setBusy] = useState(false);
  return (
    <form
      class={`form ${props.class ?? ""}`}
      data-form={props.name}
      onSubmit={async (e) => {
        e.preventDefault();
        const f = e.currentTarget as HTMLFormElement;
        const values: Record<string, string> = {};
        for (const [k, v] of new FormData(f).entries()) values[k] = typeof v === "string" ? v.trim() : "";
        for (const el of Array.from(f.querySelectorAll<HTMLInputElement>("input[type=checkbox]")))
          values[el.name] = el.checked ? "1" : "";
        setBusy(true);
        try {
          await props.onSubmit(values, f);
        } finally {
          setBusy(false);
        }
      }}
    >
      {props.children}
      <button type="submit" class="primary" disabled={busy}>
        {props.submit}
      </button>
    </form>
  );
}

/** A dialog: Escape closes it; focus moves in and comes back. */
export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    (box.current?.querySelector<HTMLElement>("input, select, textarea, button:not(.close)") ?? box.current)?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") props.onClose();
    };
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("keydown", onKey);
      before?.focus?.();
    };
  }, []);
  return (
    <div class="backdrop">
      <div class="dialog" role="dialog" aria-modal="true" aria-label={props.title} ref={box} tabIndex={-1}>
        <header>
          <h3>{props.title}</h3>
          <button type="button" class="close" aria-label="Close" onClick={props.onClose}>
            ×
          </button>
        </header>
        {props.children}
      </div>
    </div>
  );
}

export const when = (ms: number) => (ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "—");
export const yesNo = (b: boolean) => (b ? "yes" : "no");
export const num = (n: number | undefined | null) => (n === undefined || n === null ? "—" : n.toLocaleString("en"));
