import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/**
 * A time-series line chart on uPlot (docs/admin-console.md says why uPlot). `x` is unix seconds;
 * each series is one line. Data updates go through `setData`, so a live chart redraws in place
 * without being rebuilt; the width follows the container.
 */
export interface Series {
  label: string;
  values: Array<number | null>;
}

const COLORS = ["#1a73e8", "#e8710a", "#188038", "#a142f4", "#d93025", "#12b5cb", "#f9ab00", "#5f6368"];

export function LineChart(props: { title: string; x: number[]; series: Series[]; height?: number; name?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.label).join("\u0000");

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height: props.height ?? 200,
      scales: {
        // a single sample (or a few seconds of them) would stretch the axis over years: keep a minute at least
        x: {
          time: true,
          range: (_u, min, max) => (max - min < 60 ? [min - 30, max + 30] : [min, max]),
        },
      },
      axes: [{ stroke: "#888" }, { stroke: "#888", size: 50 }],
      legend: { show: true },
      series: [
        {},
        ...props.series.map((s, i) => ({
          label: s.label,
          stroke: COLORS[i % COLORS.length],
          width: 2,
          points: { show: false },
          spanGaps: true,
        })),
      ],
    };
    const u = new uPlot(opts, [props.x, ...props.series.map((s) => s.values)] as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() =>
      u.setSize({ width: Math.max(240, el.clientWidth), height: props.height ?? 200 }),
    );
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData([props.x, ...props.series.map((s) => s.values)] as uPlot.AlignedData);
  }, [props.x, props.series]);

  return (
    <figure class="chart" data-chart={props.name ?? props.title} data-points={props.x.length}>
      <figcaption>{props.title}</figcaption>
      <div ref={box} class="chart-box" role="img" aria-label={`${props.title}: ${props.x.length} points`} />
    </figure>
  );
}

/** A horizontal bar list (top groups, top rooms): label, value, a bar scaled to the largest. */
export function Bars(props: {
  title: string;
  rows: Array<{ key: string; label: string; value: number }>;
  name?: string;
}) {
  const max = Math.max(1, ...props.rows.map((r) => r.value));
  return (
    <figure class="bars" data-bars={props.name ?? props.title}>
      <figcaption>{props.title}</figcaption>
      {props.rows.length === 0 ? (
        <p class="hint">None yet.</p>
      ) : (
        <ol>
          {props.rows.map((r) => (
            <li key={r.key} data-bar={r.key}>
              <span class="bar-label">{r.label}</span>
              <span class="bar-track" aria-hidden="true">
                <span class="bar-fill" style={{ width: `${(100 * r.value) / max}%` }} />
              </span>
              <span class="bar-value">{r.value.toLocaleString("en")}</span>
            </li>
          ))}
        </ol>
      )}
    </figure>
  );
}
