/** The hostile-peers benchmark's table: one row per attack, and the summary of several runs. */

/** The figures of one attack. */
export interface Row {
  attack: string;
  target: string;
  sent: number;
  rejected: number;
  /** Honest p99 in ms, in the window before the attack and during it. */
  p99Before: number;
  p99During: number;
  /** Honest requests answered and failed during the attack. */
  okDuring: number;
  failedDuring: number;
  /** Fresh-connection probes "ok/tried" during the attack (node only). */
  freshDuring: string;
  /** RSS of the target in MiB: before, and the most during. */
  rssBefore: number;
  rssDuring: number;
  /** Lines the target logged during the attack. */
  logLines: number;
  /** The target was still running after the attack. */
  alive: boolean;
  note: string;
}

const HEADER = [
  "attack",
  "sent",
  "rejected",
  "honest p99 before → during (ms)",
  "honest ok / failed",
  "fresh conns ok",
  "RSS before → during (MiB)",
  "log lines",
];

function line(cells: string[]): string {
  return `| ${cells.join(" | ")} |`;
}

function ms(x: number): string {
  return Number.isFinite(x) ? x.toFixed(x < 10 ? 2 : 1) : "–";
}

/** Markdown rows (with the header when asked). */
export function table(rows: Row[], options: { header: boolean }): string {
  const lines = options.header
    ? [line(HEADER), line(HEADER.map((_, i) => i === 0 ? "---" : "---:"))]
    : [];
  for (const r of rows) {
    lines.push(line([
      r.attack + (r.alive ? "" : " (DIED)"),
      r.sent.toLocaleString("en"),
      `${r.rejected.toLocaleString("en")}${
        r.rejected === r.sent
          ? ""
          : ` (${(100 * r.rejected / Math.max(1, r.sent)).toFixed(0)} %)`
      }`,
      `${ms(r.p99Before)} → ${ms(r.p99During)}`,
      `${r.okDuring.toLocaleString("en")} / ${r.failedDuring}`,
      r.freshDuring || "–",
      `${r.rssBefore.toFixed(0)} → ${r.rssDuring.toFixed(0)}`,
      String(r.logLines),
    ]));
  }
  return lines.join("\n");
}

function spread(xs: number[], format: (x: number) => string): string {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return "–";
  const mid = format(s[s.length >> 1]!);
  return s.length === 1 || s[0] === s[s.length - 1]
    ? mid
    : `${mid} (${format(s[0]!)}–${format(s[s.length - 1]!)})`;
}

/** One table over several runs: the median of each figure and its range. */
export function summarize(runs: Row[][]): string {
  const names = [...new Set(runs.flat().map((r) => r.attack))];
  const lines = [
    line(HEADER),
    line(HEADER.map((_, i) => i === 0 ? "---" : "---:")),
  ];
  const int = (x: number) => Math.round(x).toLocaleString("en");
  for (const name of names) {
    const rs = runs.map((run) => run.find((r) => r.attack === name)).filter((
      r,
    ) => r !== undefined);
    const all = rs.every((r) => r.rejected === r.sent);
    lines.push(line([
      name + (rs.every((r) => r.alive) ? "" : " (DIED)"),
      spread(rs.map((r) => r.sent), int),
      all ? "all" : spread(rs.map((r) => r.rejected), int),
      `${spread(rs.map((r) => r.p99Before), ms)} → ${
        spread(rs.map((r) => r.p99During), ms)
      }`,
      `${spread(rs.map((r) => r.okDuring), int)} / ${
        spread(rs.map((r) => r.failedDuring), int)
      }`,
      rs[0]!.freshDuring ? rs.map((r) => r.freshDuring).join(", ") : "–",
      `${spread(rs.map((r) => r.rssBefore), int)} → ${
        spread(rs.map((r) => r.rssDuring), int)
      }`,
      spread(rs.map((r) => r.logLines), int),
    ]));
  }
  return lines.join("\n");
}
