/** The last hour as an SVG drawn here: tasks/s as bars, p50 and p99 run times as lines. */
import { type Html, trusted } from "./_html.ts";
import type { SeriesPointView } from "./types.ts";

const W = 720;
const H = 200;
const LEFT = 48;
const RIGHT = 56;
const TOP = 12;
const BOTTOM = 24;

/** A round number at or above `v` (1, 2, 5 × 10^n). */
function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (v >= 100) return String(Math.round(v));
  if (v >= 10) return v.toFixed(0);
  if (v >= 1) return v.toFixed(1).replace(/\.0$/, "");
  return v.toPrecision(1);
}

/** Polyline segments through the points that have a value (gaps stay gaps). */
function lines(
  values: number[],
  x: (i: number) => number,
  y: (v: number) => number,
): string[] {
  const out: string[] = [];
  let run: string[] = [];
  values.forEach((v, i) => {
    if (Number.isNaN(v)) {
      if (run.length > 0) out.push(run.join(" "));
      run = [];
      return;
    }
    run.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  });
  if (run.length > 0) out.push(run.join(" "));
  // A single point still shows as a dot.
  return out.map((pts) => pts.includes(" ") ? pts : `${pts} ${pts}`);
}

/** The chart of `points` (oldest first), each `stepS` seconds wide. */
export function renderChart(points: SeriesPointView[], stepS: number): Html {
  const n = Math.max(1, points.length);
  const plotW = W - LEFT - RIGHT;
  const plotH = H - TOP - BOTTOM;
  const rates = points.map((p) => p.count / stepS);
  const maxRate = niceCeil(Math.max(0, ...rates));
  const latencies = points.flatMap((p) =>
    [p.p50Ms, p.p99Ms].filter((v) => !Number.isNaN(v))
  );
  const maxMs = niceCeil(Math.max(0, ...latencies));
  const x = (i: number) => LEFT + (i * plotW) / n;
  const yRate = (v: number) => TOP + plotH - (v / maxRate) * plotH;
  const yMs = (v: number) => TOP + plotH - (Math.min(v, maxMs) / maxMs) * plotH;
  const barW = Math.max(1, plotW / n - 0.5);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" class="chart" role="img" aria-label="Tasks per second and run time over the last hour">`,
    `<rect x="${LEFT}" y="${TOP}" width="${plotW}" height="${plotH}" class="plot"/>`,
  ];
  for (const f of [0.5, 1]) {
    const y = (TOP + plotH - f * plotH).toFixed(1);
    parts.push(
      `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y}" y2="${y}" class="grid"/>`,
      `<text x="${
        LEFT - 4
      }" y="${y}" class="axis rate" text-anchor="end" dominant-baseline="middle">${
        fmt(f * maxRate)
      }/s</text>`,
      `<text x="${
        W - RIGHT + 4
      }" y="${y}" class="axis ms" dominant-baseline="middle">${
        fmt(f * maxMs)
      } ms</text>`,
    );
  }
  rates.forEach((r, i) => {
    if (r <= 0) return;
    const y = yRate(r);
    parts.push(
      `<rect x="${x(i).toFixed(1)}" y="${y.toFixed(1)}" width="${
        barW.toFixed(1)
      }" height="${(TOP + plotH - y).toFixed(1)}" class="bar"/>`,
    );
  });
  for (const [key, cls] of [["p50Ms", "p50"], ["p99Ms", "p99"]] as const) {
    for (const pts of lines(points.map((p) => p[key]), x, yMs)) {
      parts.push(`<polyline points="${pts}" class="${cls}"/>`);
    }
  }
  const minutes = Math.round((n * stepS) / 60);
  for (const m of [minutes, (minutes * 3) / 4, minutes / 2, minutes / 4, 0]) {
    const i = n - (m * 60) / stepS;
    parts.push(
      `<text x="${x(i).toFixed(1)}" y="${
        H - 6
      }" class="axis" text-anchor="middle">${
        m === 0 ? "now" : `−${Math.round(m)} min`
      }</text>`,
    );
  }
  parts.push("</svg>");
  return trusted(parts.join(""));
}
