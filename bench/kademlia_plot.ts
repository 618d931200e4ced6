/**
 * Draws bench/kademlia_messages.svg from bench/kademlia_sim.json: messages per lookup
 * against network size, the Kademlia lookup against asking every peer (log scales).
 *
 * Run: deno run -A bench/kademlia_sim.ts --out bench/kademlia_sim.json
 *      deno run -A bench/kademlia_plot.ts
 */
interface Row {
  n: number;
  scenario: string;
  messagesPerLookup: number;
  askEveryPeerMessages: number;
  goalMessages: number;
}

const W = 560, H = 360, L = 70, R = 20, T = 40, B = 50;

function logScale(v: number, lo: number, hi: number, a: number, b: number) {
  return a +
    (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) *
      (b - a);
}

/** The SVG text of the plot. */
export function plot(rows: readonly Row[]): string {
  const stable = rows.filter((r) => r.scenario === "stable").sort((a, b) =>
    a.n - b.n
  );
  const nLo = stable[0]!.n, nHi = stable.at(-1)!.n;
  const yLo = 1,
    yHi = 10 **
      Math.ceil(
        Math.log10(Math.max(...stable.map((r) => r.askEveryPeerMessages))),
      );
  const x = (n: number) => logScale(n, nLo, nHi, L, W - R);
  const y = (v: number) => logScale(v, yLo, yHi, H - B, T);
  const line = (pick: (r: Row) => number) =>
    stable.map((r, i) =>
      `${i ? "L" : "M"}${x(r.n).toFixed(1)},${y(pick(r)).toFixed(1)}`
    ).join(" ");
  const series: [string, string, (r: Row) => number, string][] = [
    ["ask every peer", "#c0392b", (r) => r.askEveryPeerMessages, ""],
    [
      "goal 3·log2(N)",
      "#7f8c8d",
      (r) => r.goalMessages,
      ' stroke-dasharray="5,4"',
    ],
    ["Kademlia lookup", "#2471a3", (r) => r.messagesPerLookup, ""],
  ];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${
      W / 2
    }" y="20" text-anchor="middle" font-size="14">Messages per skill lookup</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${
      H - B
    }" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
  ];
  for (const r of stable) {
    out.push(
      `<text x="${x(r.n).toFixed(1)}" y="${
        H - B + 16
      }" text-anchor="middle">${r.n}</text>`,
    );
  }
  for (let v = yLo; v <= yHi; v *= 10) {
    out.push(
      `<line x1="${L - 4}" y1="${y(v).toFixed(1)}" x2="${W - R}" y2="${
        y(v).toFixed(1)
      }" stroke="#ddd"/>`,
      `<text x="${L - 8}" y="${
        (y(v) + 4).toFixed(1)
      }" text-anchor="end">${v}</text>`,
    );
  }
  out.push(
    `<text x="${W / 2}" y="${H - 12}" text-anchor="middle">nodes (N)</text>`,
    `<text x="16" y="${H / 2}" text-anchor="middle" transform="rotate(-90 16 ${
      H / 2
    })">messages</text>`,
  );
  series.forEach(([name, color, pick, dash], i) => {
    out.push(
      `<path d="${
        line(pick)
      }" fill="none" stroke="${color}" stroke-width="2"${dash}/>`,
    );
    for (const r of stable) {
      out.push(
        `<circle cx="${x(r.n).toFixed(1)}" cy="${
          y(pick(r)).toFixed(1)
        }" r="3" fill="${color}"/>`,
      );
    }
    const ly = T + 8 + i * 16;
    out.push(
      `<line x1="${L + 12}" y1="${ly}" x2="${
        L + 32
      }" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${L + 38}" y="${ly + 4}">${name}</text>`,
    );
  });
  out.push("</svg>", "");
  return out.join("\n");
}

if (import.meta.main) {
  const dir = new URL(".", import.meta.url);
  const rows = JSON.parse(
    Deno.readTextFileSync(new URL("kademlia_sim.json", dir)),
  ) as Row[];
  Deno.writeTextFileSync(new URL("kademlia_messages.svg", dir), plot(rows));
}
