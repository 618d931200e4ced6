/** The cockpit's stylesheet and its one small script, served as files (no inline code: CSP). */

/** `/app.css`. */
export const APP_CSS = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #667085; --bg: #f6f7f9;
  --card: #fff; --line: #e3e6ea; --ok: #1a7f37; --bad: #c62828; --accent: #2f6feb; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8eb; --muted: #98a2b3; --bg: #12151a;
  --card: #1b1f26; --line: #2c323c; --ok: #4ac26b; --bad: #ff6b6b; --accent: #6ea8fe; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1.2rem;
  background: var(--card); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 1; }
header h1 { font-size: 1.1rem; margin: 0; }
header nav { display: flex; gap: .8rem; flex-wrap: wrap; }
header nav a { color: var(--accent); text-decoration: none; }
#status { margin-left: auto; font-size: .85rem; padding: .1rem .5rem; border-radius: 1rem; }
#status.live { background: var(--ok); color: #fff; }
#status.down { background: var(--bad); color: #fff; }
#flash { font-size: .85rem; color: var(--muted); }
main { padding: 1rem 1.2rem; display: grid; gap: 1rem; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; overflow-x: auto; }
section h2 { font-size: 1rem; margin: 0 0 .6rem; }
section h3 { font-size: .9rem; margin: .8rem 0 .4rem; color: var(--muted); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: .85rem; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.mono, .id { font-family: ui-monospace, monospace; font-size: .85rem; word-break: break-all; }
.empty, .more { color: var(--muted); }
tr.failed .status { color: var(--bad); }
tr.completed .status { color: var(--ok); }
tr.disabled td { color: var(--muted); }
tr.disabled td.state { color: var(--bad); font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
button { font: inherit; font-size: .8rem; padding: .1rem .6rem; border: 1px solid var(--line);
  border-radius: 4px; background: var(--bg); color: var(--fg); cursor: pointer; }
button:disabled { opacity: .5; }
meter { margin: 0 .5rem; vertical-align: middle; }
svg.chart { width: 100%; max-width: 960px; height: auto; display: block; }
svg.chart .plot { fill: none; stroke: var(--line); }
svg.chart .grid { stroke: var(--line); stroke-dasharray: 3 3; }
svg.chart .bar { fill: var(--accent); opacity: .55; }
svg.chart .p50 { fill: none; stroke: var(--ok); stroke-width: 1.5; }
svg.chart .p99 { fill: none; stroke: var(--bad); stroke-width: 1.5; }
svg.chart .axis { fill: var(--muted); font-size: 11px; }
.legend span { margin-right: 1rem; font-size: .85rem; }
.legend .bar { color: var(--accent); } .legend .p50 { color: var(--ok); } .legend .p99 { color: var(--bad); }
form.login { max-width: 30rem; margin: 4rem auto; display: grid; gap: .6rem; }
form.login input { font: inherit; padding: .4rem; }
`;

/** `/app.js`: live updates over server-sent events and the action buttons. */
export const APP_JS = `"use strict";
(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const maxTasks = Number(document.body.dataset.taskRows);
  const status = document.getElementById("status");
  const flash = document.getElementById("flash");
  const show = (text) => { flash.textContent = text; };
  const events = new EventSource("/events?after=" + document.body.dataset.after);
  events.addEventListener("open", () => { status.textContent = "live"; status.className = "live"; });
  events.addEventListener("error", () => { status.textContent = "reconnecting"; status.className = "down"; });
  events.addEventListener("section", (e) => {
    const update = JSON.parse(e.data);
    const el = document.getElementById(update.id);
    if (el) el.innerHTML = update.html;
  });
  events.addEventListener("task", (e) => {
    const rows = document.getElementById("task-rows");
    if (!rows) return;
    rows.insertAdjacentHTML("afterbegin", JSON.parse(e.data).html);
    while (rows.rows.length > maxTasks) rows.deleteRow(-1);
    const none = document.getElementById("no-tasks");
    if (none) none.remove();
  });
  document.addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-action]");
    if (!button) return;
    const kind = button.dataset.action;
    const body = new URLSearchParams();
    if (kind === "skill") {
      body.set("name", button.dataset.name);
      body.set("enabled", button.dataset.enabled);
    } else if (kind === "peer") {
      body.set("node_id", button.dataset.nodeId);
    } else if (kind === "asset") {
      if (!confirm("Delete asset " + button.dataset.hash.slice(0, 16) + "…?")) return;
      body.set("hash", button.dataset.hash);
    } else return;
    button.disabled = true;
    try {
      const response = await fetch("/actions/" + kind, {
        method: "POST",
        headers: { "X-CSRF-Token": csrf },
        body,
        credentials: "same-origin",
      });
      const answer = await response.json().catch(() => ({}));
      show(response.ok ? answer.message : "Failed: " + (answer.error || response.status));
    } catch (error) {
      show("Failed: " + error.message);
    } finally {
      button.disabled = false;
    }
  });
})();
`;
