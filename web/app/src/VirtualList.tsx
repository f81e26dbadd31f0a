import type { ComponentChildren } from "preact";
import { useLayoutEffect, useRef, useState } from "preact/hooks";

export interface VirtualListProps<T> {
  items: T[];
  keyOf: (item: T) => string;
  render: (item: T, index: number) => ComponentChildren;
  /** Height assumed before an item was measured (px). */
  estimate?: number;
  /** Called when the top is near (load older). */
  onNearTop?: () => void;
  /** Changes when the list is another conversation: scroll to the bottom. */
  resetKey?: string;
  header?: ComponentChildren;
  label?: string;
}

const OVERSCAN_PX = 600;
const STICK_PX = 48;

/**
 * A virtualised, bottom-anchored list for chat: only the items in (and near) the viewport are in
 * the DOM, so a conversation of 10 000 messages scrolls like one of 50. Heights are measured after
 * render and cached by key; spacers above and below stand in for the rest. It sticks to the bottom
 * while the reader is there (new messages do not shift what they read otherwise), and keeps the
 * first visible message in place when older ones are prepended.
 */
export function VirtualList<T>(props: VirtualListProps<T>) {
  const { items, keyOf, render, estimate = 64 } = props;
  const box = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string, number>());
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  const [, force] = useState(0);
  const stick = useRef(true);
  const anchor = useRef<{ key: string; offset: number } | null>(null);
  const lastReset = useRef<string | undefined>(undefined);

  const offsets: number[] = new Array(items.length + 1);
  offsets[0] = 0;
  for (let i = 0; i < items.length; i++)
    offsets[i + 1] = offsets[i] + (heights.current.get(keyOf(items[i])) ?? estimate);
  const total = offsets[items.length];

  // first and last rendered index (binary search on offsets)
  const lo = Math.max(0, scrollTop - OVERSCAN_PX);
  const hi = scrollTop + viewport + OVERSCAN_PX;
  let start = 0;
  let a = 0;
  let b = items.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (offsets[m + 1] <= lo) a = m + 1;
    else b = m;
  }
  start = a;
  let end = start;
  while (end < items.length && offsets[end] < hi) end++;

  // before the DOM changes: remember the first visible item, to keep it in place
  const el = box.current;
  if (el && items.length) {
    const i = Math.min(items.length - 1, start);
    anchor.current = { key: keyOf(items[i]), offset: offsets[i] - el.scrollTop };
  }

  useLayoutEffect(() => {
    const node = box.current;
    if (!node) return;
    let changed = false;
    for (const child of Array.from(node.querySelectorAll<HTMLElement>("[data-vkey]"))) {
      const k = child.dataset.vkey as string;
      const h = child.offsetHeight;
      if (heights.current.get(k) !== h) {
        heights.current.set(k, h);
        changed = true;
      }
    }
    if (props.resetKey !== lastReset.current) {
      lastReset.current = props.resetKey;
      stick.current = true;
    }
    if (stick.current) node.scrollTop = node.scrollHeight;
    else if (anchor.current) {
      const idx = items.findIndex((x) => keyOf(x) === anchor.current?.key);
      if (idx >= 0) {
        let off = 0;
        for (let i = 0; i < idx; i++) off += heights.current.get(keyOf(items[i])) ?? estimate;
        const want = off - anchor.current.offset;
        if (Math.abs(node.scrollTop - want) > 1) node.scrollTop = want;
      }
    }
    if (changed) force((n) => n + 1);
  });

  useLayoutEffect(() => {
    const node = box.current;
    if (!node) return;
    setViewport(node.clientHeight);
    const ro = new ResizeObserver(() => {
      setViewport(node.clientHeight);
      if (stick.current) node.scrollTop = node.scrollHeight;
    });
    ro.observe(node);
    return () => ro.disconnect();
  }, []);

  const onScroll = () => {
    const node = box.current;
    if (!node) return;
    stick.current = node.scrollHeight - node.scrollTop - node.clientHeight < STICK_PX;
    setScrollTop(node.scrollTop);
    if (node.scrollTop < 200) props.onNearTop?.();
  };

  return (
    <div class="vlist" ref={box} onScroll={onScroll} role="log" aria-label={props.label} aria-live="polite">
      {props.header}
      <div style={{ height: `${offsets[start]}px` }} aria-hidden="true" />
      {items.slice(start, end).map((item, i) => (
        <div key={keyOf(item)} data-vkey={keyOf(item)}>
          {render(item, start + i)}
        </div>
      ))}
      <div style={{ height: `${total - offsets[end]}px` }} aria-hidden="true" />
    </div>
  );
}
