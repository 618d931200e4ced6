/** Text and small pieces shared by the cockpit's sections: times, sizes, ids, table fillers. */
import { clip, type Html, html } from "./_html.ts";

/** Rows shown at most in a long table (peers, known skills, accounts, assets). */
export const MAX_ROWS = 200;
/** Tasks shown in the live table. */
export const TASK_ROWS = 50;

/** "12 s ago", "3 min ago"… from unix seconds. */
export function ago(unixS: number, nowS: number): string {
  const s = Math.max(0, Math.round(nowS - unixS));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** "2 d 3 h", "4 h 12 min", "5 min 3 s". */
export function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86_400), h = Math.floor(s / 3600) % 24;
  const m = Math.floor(s / 60) % 60;
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  return `${m} min ${s % 60} s`;
}

/** A run time: "420 µs", "4.2 ms", "12 ms", "1.3 s", or "–". */
export function millis(ms: number | null): string {
  if (ms === null || Number.isNaN(ms)) return "–";
  if (ms < 0.9995) return `${Math.round(ms * 1000)} µs`;
  if (ms < 9.95) return `${ms.toFixed(1)} ms`;
  if (ms < 999.5) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Bytes as B, KiB, MiB or GiB. */
export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n, u = 0;
  while (v >= 1024 && u < units.length - 1) v /= 1024, u++;
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/** A wall-clock time of day, "14:03:07". */
export function clock(unixMs: number): string {
  return new Date(unixMs).toTimeString().slice(0, 8);
}

/** A long id shortened, the whole id in its title. */
export function id(full: string, keep = 12): Html {
  return html`<span class="id" title="${full}">${clip(full, keep + 1)}</span>`;
}

/** A note of the rows a long table leaves out. */
export function more(total: number): Html {
  return total > MAX_ROWS
    ? html`<p class="more">${total - MAX_ROWS} more not shown</p>`
    : html``;
}

/** A table row saying the table is empty. */
export function empty(cols: number, text: string): Html {
  return html`
    <tr>
      <td colspan="${cols}" class="empty">${text}</td>
    </tr>
  `;
}
