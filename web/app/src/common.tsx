import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { t } from "./i18n.ts";

const safeUrl = (s: string) => /^(https?:\/\/|\/)[^\s"'<>\\]*$/.test(s);

/** An avatar image, or the first character of the name on a colour derived from it. */
export function Avatar({ name, src, small }: { name: string; src?: string; small?: boolean }) {
  const cls = `avatar${small ? " small" : ""}`;
  if (src && safeUrl(src)) return <img class={cls} src={src} alt="" />;
  let h = 0;
  for (const ch of name) h = (h * 31 + (ch.codePointAt(0) ?? 0)) % 360;
  return (
    <span class={cls} style={{ background: `hsl(${h} 45% 55%)` }} aria-hidden="true">
      {Array.from(name)[0] ?? "?"}
    </span>
  );
}

export function Badge({ n, muted }: { n: number; muted?: boolean }) {
  if (n <= 0) return null;
  return (
    <span class={`badge${muted ? " muted" : ""}`} data-badge={n}>
      {n > 99 ? "99+" : n}
    </span>
  );
}

/** A dialog: Escape and the backdrop close it; focus moves in and comes back. */
export function Modal(props: { title: string; onClose: () => void; children: ComponentChildren; class?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const backdrop = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    const first = box.current?.querySelector<HTMLElement>("input, select, textarea, button:not(.close)");
    (first ?? box.current)?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") props.onClose();
    };
    // a click on the backdrop (not the dialog) closes it, like Escape
    const onClick = (e: MouseEvent) => {
      if (e.target === backdrop.current) props.onClose();
    };
    document.addEventListener("keydown", onKey);
    backdrop.current?.addEventListener("click", onClick);
    return () => {
      document.removeEventListener("keydown", onKey);
      backdrop.current?.removeEventListener("click", onClick);
      before?.focus?.();
    };
  }, []);
  return (
    <div class="backdrop" ref={backdrop}>
      <div
        class={`modal ${props.class ?? ""}`}
        role="dialog"
        aria-modal="true"
        aria-label={props.title}
        ref={box}
        tabIndex={-1}
      >
        <header>
          <h3>{props.title}</h3>
          <button type="button" class="icon close" aria-label={t("cancel")} onClick={props.onClose}>
            ×
          </button>
        </header>
        {props.children}
      </div>
    </div>
  );
}
