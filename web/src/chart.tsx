// Vehicle passes (bars) and vehicle alerts (line) of one checkpoint per hour, drawn with uPlot
// (a small canvas chart library). The canvas is a picture: the same figures are in a table
// under it for screen readers and keyboard users, and the figure's label says the totals.

import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { formatTime, type Lang, t } from "./i18n";
import { Scroll } from "./scroll";

export interface HourPoint {
  hour: string;
  passes: number;
  alerts: number;
}

export const PASSES_COLOUR = "#0b5cad";
export const ALERTS_COLOUR = "#c53030";
const AXIS_COLOUR = "#57606a";
const HEIGHT = 200;
const ZONE = "Asia/Shanghai";

/** Axis ticks in Beijing time: "HH:00", with the date where a day starts (and at the first). */
function hourTicks(splits: number[]): string[] {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: ZONE, month: "2-digit", day: "2-digit", hour: "2-digit", hourCycle: "h23",
  });
  return splits.map((s, i) => {
    const p = Object.fromEntries(parts.formatToParts(new Date(s * 1000))
      .map((x) => [x.type, x.value]));
    const hour = `${p.hour}:00`;
    return i === 0 || p.hour === "00" ? `${p.month}-${p.day} ${hour}` : hour;
  });
}

function options(lang: Lang, width: number, hours: HourPoint[]): uPlot.Options {
  const topPasses = Math.max(1, ...hours.map((h) => h.passes));
  const topAlerts = Math.max(1, ...hours.map((h) => h.alerts));
  const first = Date.parse(hours[0].hour) / 1000;
  const last = Date.parse(hours[hours.length - 1].hour) / 1000;
  return {
    width,
    height: HEIGHT,
    legend: { show: false }, // the figure's own legend and table name the series
    cursor: { drag: { x: false, y: false } },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), ZONE),
    scales: {
      // half an hour either side, so the first and last bars are whole (a fixed range: uPlot
      // fits a function's range to the data's ends)
      x: { time: true, range: [first - 1800, last + 1800] },
      passes: { range: () => [0, Math.ceil(topPasses * 1.1)] },
      alerts: { range: () => [0, Math.max(2, Math.ceil(topAlerts * 1.25))] },
    },
    axes: [
      { stroke: AXIS_COLOUR, values: (_u, splits) => hourTicks(splits),
        grid: { stroke: "#d0d7de", width: 1 } },
      { scale: "passes", stroke: PASSES_COLOUR, label: t(lang, "passes"),
        grid: { stroke: "#eaeef2", width: 1 } },
      { scale: "alerts", side: 1, stroke: ALERTS_COLOUR, label: t(lang, "alertsShort"),
        grid: { show: false }, incrs: [1, 2, 5, 10, 20, 50, 100] },
    ],
    series: [
      {},
      { label: t(lang, "passes"), scale: "passes", stroke: PASSES_COLOUR,
        fill: `${PASSES_COLOUR}cc`, width: 1, points: { show: false },
        paths: uPlot.paths.bars!({ size: [0.7, 48] }) },
      { label: t(lang, "alertsShort"), scale: "alerts", stroke: ALERTS_COLOUR, width: 2,
        points: { show: true, size: 7, fill: ALERTS_COLOUR } },
    ],
  };
}

export function HourChart(props: { lang: Lang; name: string; hours: HourPoint[] }) {
  const { lang, hours } = props;
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el || hours.length === 0) return undefined;
    const width = () => Math.max(220, el.clientWidth);
    const data: uPlot.AlignedData = [
      hours.map((h) => Date.parse(h.hour) / 1000),
      hours.map((h) => h.passes),
      hours.map((h) => h.alerts),
    ];
    const plot = new uPlot(options(lang, width(), hours), data, el);
    const resized = new ResizeObserver(() => {
      if (Math.abs(plot.width - width()) > 1) plot.setSize({ width: width(), height: HEIGHT });
    });
    resized.observe(el);
    return () => {
      resized.disconnect();
      plot.destroy();
    };
  }, [hours, lang]);
  const passes = hours.reduce((n, h) => n + h.passes, 0);
  const alerts = hours.reduce((n, h) => n + h.alerts, 0);
  const summary = `${props.name}: ${t(lang, "passes")} ${passes} · ${t(lang, "alertsShort")} `
    + `${alerts} (${hours.length} ${t(lang, "hoursWithTraffic")})`;
  return (
    <>
      <p class="legend" aria-hidden="true">
        <span class="swatch" style={{ background: PASSES_COLOUR }} />{t(lang, "passes")}{" "}
        <span class="swatch line" style={{ background: ALERTS_COLOUR }} />{t(lang, "alertsShort")}
      </p>
      {hours.length === 0 ? <p class="muted">{t(lang, "noTraffic")}</p> : (
        <div class="chart" ref={box} role="img" aria-label={summary} data-testid="hour-chart" />
      )}
      <details class="chart-data">
        <summary>{t(lang, "chartData")}</summary>
        <Scroll label={`${props.name} ${t(lang, "table")}`}>
          <table class="hours">
            <thead><tr>
              <th scope="col">{t(lang, "hour")}</th>
              <th scope="col" class="num">{t(lang, "passes")}</th>
              <th scope="col" class="num">{t(lang, "alertsShort")}</th>
            </tr></thead>
            <tbody>{hours.map((h) => (
              <tr key={h.hour} data-hour={h.hour}>
                <td>{formatTime(h.hour, lang)}</td><td class="num">{h.passes}</td>
                <td class="num">{h.alerts}</td>
              </tr>))}
            </tbody>
          </table>
        </Scroll>
      </details>
    </>
  );
}
