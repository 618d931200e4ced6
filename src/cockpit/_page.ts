/** The dashboard page and the login page around the sections. */
import { renderChart } from "./_chart.ts";
import { type Html, html, trusted } from "./_html.ts";
import {
  assetsSection,
  demandSection,
  ledgerSection,
  nodeSection,
  peersSection,
  relaySection,
  skillsSection,
  tasksSection,
} from "./_sections.ts";
import { TASK_ROWS } from "./_format.ts";
import type { CockpitSource, TaskView } from "./types.ts";

/** Seconds per point of the chart's series. */
export const CHART_STEP_S = 10;

/** The sections that live updates replace, in page order, with their headings. */
export const LIVE_SECTIONS: readonly (readonly [string, string])[] = [
  ["node", "Node"],
  ["chart", "Last hour"],
  ["skills", "Skills"],
  ["peers", "Peers"],
  ["ledger", "Ledger and reputation"],
  ["demand", "Unmet demand"],
  ["assets", "Assets"],
  ["relay", "Relay"],
];

function chart(source: CockpitSource): Html {
  return html`
    <p
      class="legend"><span class="bar">■ tasks/s</span><span class="p50">— p50 run time</span><span class="p99">— p99 run time</span></p>${renderChart(
        source.series(),
        CHART_STEP_S,
      )}
  `;
}

function section(id: string, source: CockpitSource, nowMs: number): Html {
  const nowS = nowMs / 1000;
  switch (id) {
    case "node":
      return nodeSection(source.node(), nowMs);
    case "chart":
      return chart(source);
    case "skills":
      return skillsSection(source.ownSkills(), source.knownSkills());
    case "peers":
      return peersSection(source.peers(), nowS);
    case "ledger":
      return ledgerSection(source.ledger(), source.reputation(), nowS);
    case "demand":
      return demandSection(source.demand(), nowS);
    case "assets":
      return assetsSection(source.assets(), nowS);
    case "relay":
      return relaySection(source.relay());
    default:
      return html``;
  }
}

/** Each live section's HTML now; a section whose source fails says so instead. */
export function renderSections(
  source: CockpitSource,
  nowMs: number,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const [id] of LIVE_SECTIONS) {
    try {
      out.set(id, section(id, source, nowMs).text);
    } catch (error) {
      out.set(
        id,
        html`<p class="empty">Cannot show this section: ${
          (error as Error).message
        }</p>`.text,
      );
    }
  }
  return out;
}

function head(title: string, csrf: string): Html {
  return html`
    <!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <meta name="csrf-token" content="${csrf}">
        <title>${title}</title>
        <link rel="stylesheet" href="/app.css">
  `;
}

/** The whole dashboard: every section, the last tasks and the script. */
export function dashboardPage(
  source: CockpitSource,
  csrf: string,
  nowMs: number,
): string {
  const sections = renderSections(source, nowMs);
  const tasks: TaskView[] = source.tasks(0);
  const after = tasks.length === 0 ? 0 : tasks[tasks.length - 1]!.seq;
  const nodeId = source.node().nodeId;
  const order = [
    "node",
    "chart",
    "tasks",
    ...LIVE_SECTIONS.slice(2).map(([id]) => id),
  ];
  const titles = new Map<string, string>([...LIVE_SECTIONS, [
    "tasks",
    "Tasks",
  ]]);
  return html`
    ${head(`knarr ${nodeId.slice(0, 12)}`, csrf)}
    <script src="/app.js" defer></script>
    </head><body data-after="${after}" data-task-rows="${TASK_ROWS}">
      <header><h1>knarr cockpit</h1><nav>${order.map((id) =>
        html`<a href="#sec-${id}">${titles.get(id)}</a>`
      )}</nav><span id="flash"></span><span id="status">connecting</span></header>
      <main>${order.map((id) =>
        html`
          <section id="sec-${id}">
            <h2>${titles.get(id)}</h2>
            <div id="${id}">${id === "tasks"
              ? tasksSection(tasks)
              : trusted(sections.get(id) ?? "")}</div>
          </section>
        `
      )}</main>
    </body></html>
  `.text;
}

/** The page a request without the token gets (status 401). */
export function loginPage(problem: string): string {
  return html`
    ${head("knarr cockpit: token needed", "")}</head><body>
      <form class="login" method="get" action="/">
        <h1>knarr cockpit</h1>
        <p>${problem}</p>
        <p>Open the address <code>knarr serve</code> printed at start (<code>Cockpit: http://…/?token=…</code>), or paste its token:</p>
        <input name="token" type="password" autocomplete="off" aria-label="token"
          required>
        <button type="submit">Open</button>
      </form>
    </body></html>
  `.text;
}
