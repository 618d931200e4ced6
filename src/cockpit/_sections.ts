/** The cockpit's sections as HTML; every peer-provided string goes through `html`. */
import { clip, type Html, html } from "./_html.ts";
import {
  ago,
  bytes,
  clock,
  duration,
  empty,
  id,
  MAX_ROWS,
  millis,
  more,
  TASK_ROWS,
} from "./_format.ts";
import type {
  AssetsView,
  DemandView,
  KnownSkillView,
  LedgerView,
  NodeView,
  OwnSkillView,
  PeerView,
  RelayView,
  ReputationView,
  TaskView,
} from "./types.ts";

/** Node id, addresses, uptime, version, reachability, UPnP, load. */
export function nodeSection(n: NodeView, now: number): Html {
  const rejected = Object.entries(n.rejected);
  return html`<dl class="facts">
<dt>Node ID</dt><dd class="mono">${n.nodeId}</dd>
<dt>Public key</dt><dd class="mono">${n.publicKey}</dd>
${
    n.addresses.map((a) =>
      html`
        <dt>${a.label}</dt>
        <dd class="mono">${a.value}</dd>
      `
    )
  }
<dt>Uptime</dt><dd>${duration(now - n.startedAt)}</dd>
<dt>Version</dt><dd>${n.version}</dd>
<dt>Reachability</dt><dd>${n.reachability}</dd>
<dt>UPnP</dt><dd>${n.upnp}</dd>
<dt>Load</dt><dd>${n.load.running} running, ${n.load.queued} queued</dd>
<dt>Rejected messages</dt><dd>${
    rejected.length === 0
      ? "none"
      : rejected.map(([k, v]) => `${k}: ${v}`).join(", ")
  }</dd>
</dl>`;
}

/** The peer table with a drop button each. */
export function peersSection(peers: PeerView[], nowS: number): Html {
  const rows = [...peers].sort((a, b) => b.lastSeen - a.lastSeen).slice(
    0,
    MAX_ROWS,
  );
  return html`
    <table>
      <thead>
        <tr>
          <th>Node</th>
          <th>Address</th>
          <th>Last seen</th>
          <th>Latency</th>
          <th>Load</th>
          <th>Skills</th>
          <th></th>
        </tr>
      </thead>
      <tbody>${rows.length === 0
        ? empty(7, "No peers yet.")
        : rows.map((p) =>
          html`
            <tr>
              <td>${id(p.nodeId)}</td>
              <td class="mono">${clip(`${p.host}:${p.port}`, 64)}</td>
              <td>${ago(p.lastSeen, nowS)}</td>
              <td>${millis(p.latencyMs)}</td>
              <td>${p.load ?? "–"}</td>
              <td>${p.skills}</td>
              <td><button type="button" data-action="peer" data-node-id="${p
                .nodeId}">Drop</button></td>
            </tr>
          `
        )}</tbody>
    </table>${more(peers.length)}
  `;
}

function errors(e: Record<string, number>): string {
  const list = Object.entries(e).sort((a, b) => b[1] - a[1]);
  return list.length === 0 ? "–" : list.map(([k, v]) => `${k} ${v}`).join(", ");
}

/** Own skills (with live figures and switches) and other nodes' skills. */
export function skillsSection(
  own: OwnSkillView[],
  known: KnownSkillView[],
): Html {
  const ownRows = own.map((s) =>
    html`
      <tr class="${s.enabled ? "" : "disabled"}" data-skill="${s.name}">
        <td>${clip(s.name, 64)}</td>
        <td>${clip(s.version, 32)}</td>
        <td>${clip(s.description, 160)}</td>
        <td>${s.price}</td>
        <td>${s.visibility}</td>
        <td class="num">${s.completed}</td>
        <td class="num">${s.failed}</td>
        <td>${millis(s.p50Ms)}</td>
        <td>${millis(s.p99Ms)}</td>
        <td>${errors(s.errors)}</td>
        <td>${s.reload || "–"}</td>
        <td class="state">${s.enabled ? "enabled" : "disabled"}</td>
        <td><button type="button" data-action="skill" data-name="${s
          .name}" data-enabled="${s.enabled ? "false" : "true"}">${s.enabled
          ? "Disable"
          : "Enable"}</button></td>
      </tr>
    `
  );
  const knownRows = known.slice(0, MAX_ROWS).map((s) =>
    html`
      <tr>
        <td>${clip(s.name, 64)}</td>
        <td>${id(s.provider)}</td>
        <td class="mono">${clip(`${s.host}:${s.port}`, 64)}</td>
        <td>${clip(s.version, 32)}</td>
        <td class="desc">${clip(s.description, 160)}</td>
        <td>${s.price}</td>
        <td>${clip(s.tags.join(", "), 80)}</td>
      </tr>
    `
  );
  return html`
    <h3>Own</h3><table>
      <thead>
        <tr>
          <th>Name</th>
          <th>Version</th>
          <th>Description</th>
          <th>Price</th>
          <th>Visibility</th>
          <th>Completed</th>
          <th>Failed</th>
          <th>p50</th>
          <th>p99</th>
          <th>Errors</th>
          <th>Hot reload</th>
          <th>State</th>
          <th></th>
        </tr>
      </thead>
      <tbody>${own.length === 0
        ? empty(13, "No skills served.")
        : ownRows}</tbody>
    </table>
    <h3>Known</h3><table>
      <thead>
        <tr>
          <th>Name</th>
          <th>Provider</th>
          <th>Address</th>
          <th>Version</th>
          <th>Description</th>
          <th>Price</th>
          <th>Tags</th>
        </tr>
      </thead>
      <tbody>${known.length === 0
        ? empty(7, "No other skills known.")
        : knownRows}</tbody>
    </table>${more(known.length)}
  `;
}

/** One row of the live task table. */
export function taskRow(t: TaskView): Html {
  return html`
    <tr class="${t.status}" data-seq="${t.seq}">
      <td>${clock(t.at)}</td>
      <td>${clip(t.skill, 64)}</td>
      <td class="status">${t.code ? `${t.status} (${t.code})` : t.status}</td>
      <td>${millis(t.wallMs)}</td>
      <td>${id(t.caller)}</td>
      <td>${t.price}</td>
      <td>${id(t.taskId, 8)}</td>
    </tr>
  `;
}

/** The last tasks, newest first. */
export function tasksSection(tasks: TaskView[]): Html {
  const rows = tasks.slice(-TASK_ROWS).reverse();
  return html`
    <table>
      <thead>
        <tr>
          <th>Ended</th>
          <th>Skill</th>
          <th>Status</th>
          <th>Duration</th>
          <th>Caller</th>
          <th>Price</th>
          <th>Task</th>
        </tr>
      </thead>
      <tbody id="task-rows">${rows.map(taskRow)}</tbody>
    </table>${rows.length === 0
      ? html`<p class="empty" id="no-tasks">No tasks yet.</p>`
      : ""}
  `;
}

/** Accounts and provider history. */
export function ledgerSection(
  ledger: LedgerView[],
  reputation: ReputationView[],
  nowS: number,
): Html {
  return html`
    <h3>Ledger</h3><table>
      <thead>
        <tr>
          <th>Peer key</th>
          <th>Balance</th>
          <th>We ran</th>
          <th>They ran</th>
          <th>Updated</th>
        </tr>
      </thead>
      <tbody>${ledger.length === 0
        ? empty(5, "No accounts yet.")
        : ledger.slice(0, MAX_ROWS).map((r) =>
          html`
            <tr>
              <td>${id(r.peer)}</td>
              <td class="num">${r.balance.toFixed(2)}</td>
              <td class="num">${r.provided}</td>
              <td class="num">${r.consumed}</td>
              <td>${ago(r.updatedAt, nowS)}</td>
            </tr>
          `
        )}</tbody>
    </table>${more(ledger.length)}
    <h3>Reputation (providers we used, 30 days)</h3><table>
      <thead>
        <tr>
          <th>Provider</th>
          <th>Tasks</th>
          <th>Success</th>
          <th>Average</th>
          <th>Last</th>
        </tr>
      </thead>
      <tbody>${reputation.length === 0
        ? empty(5, "No tasks requested yet.")
        : reputation.slice(0, MAX_ROWS).map((r) =>
          html`
            <tr>
              <td>${id(r.provider)}</td>
              <td class="num">${r.total}</td>
              <td>${Math.round(r.successRate * 100)} %</td>
              <td>${millis(r.avgWallMs)}</td>
              <td>${ago(r.lastInteraction, nowS)}</td>
            </tr>
          `
        )}</tbody>
    </table>
  `;
}

/** Queries that found nothing. */
export function demandSection(demand: DemandView[], nowS: number): Html {
  return html`
    <table>
      <thead>
        <tr>
          <th>Query</th>
          <th>Type</th>
          <th>Count</th>
          <th>Last asked</th>
        </tr>
      </thead>
      <tbody>${demand.length === 0
        ? empty(4, "No unmet demand.")
        : demand.slice(0, MAX_ROWS).map((d) =>
          html`
            <tr>
              <td>${clip(d.value, 80)}</td>
              <td>${d.type}</td>
              <td class="num">${d.count}</td>
              <td>${ago(d.lastSeen, nowS)}</td>
            </tr>
          `
        )}</tbody>
    </table>${more(demand.length)}
  `;
}

/** Size, quota and the newest assets with a delete button each. */
export function assetsSection(a: AssetsView | null, nowS: number): Html {
  if (!a) return html`<p class="empty">No asset directory.</p>`;
  const used = a.quotaBytes > 0 ? (a.totalBytes / a.quotaBytes) * 100 : 0;
  return html`
    <p>${a.count} assets, ${bytes(a.totalBytes)} of ${bytes(
      a.quotaBytes,
    )} (${used.toFixed(1)} %)<meter min="0" max="100" value="${used.toFixed(
      1,
    )}"></meter> · kept ${a.ttlSeconds === 0
      ? "forever"
      : duration(a.ttlSeconds * 1000)}</p><table>
      <thead>
        <tr>
          <th>SHA-256</th>
          <th>Size</th>
          <th>Uploaded</th>
          <th>Downloads</th>
          <th></th>
        </tr>
      </thead>
      <tbody>${a.items.length === 0
        ? empty(5, "No assets stored.")
        : a.items.map((i) =>
          html`
            <tr>
              <td>${id(i.hash, 16)}</td>
              <td>${bytes(i.size)}</td>
              <td>${ago(i.uploadedAt, nowS)}</td>
              <td class="num">${i.downloads}</td>
              <td><button type="button" data-action="asset" data-hash="${i
                .hash}">Delete</button></td>
            </tr>
          `
        )}</tbody>
    </table>${a.count > a.items.length
      ? html`<p class="more">${a.count - a.items.length} more not shown</p>`
      : ""}
  `;
}

/** The embedded relay's connections and rates. */
export function relaySection(r: RelayView | null): Html {
  if (!r) {
    return html`
      <p
        class="empty">No relay in this node (<code>[relay] enabled = false</code>).</p>
    `;
  }
  const rates = Object.entries(r.rates);
  return html`
    <p>Listening on <span class="mono">${r.address}</span>: ${r
      .connections} connections, ${r.agents} identities registered.</p>
    <table>
      <thead>
        <tr>
          <th>Rate</th>
          <th>Per second</th>
        </tr>
      </thead>
      <tbody>${rates.map(([k, v]) =>
        html`
          <tr>
            <td>${k}</td>
            <td class="num">${v.toFixed(1)}</td>
          </tr>
        `
      )}</tbody>
    </table>
    <table>
      <thead>
        <tr>
          <th>Counter</th>
          <th>Since start</th>
        </tr>
      </thead>
      <tbody>${Object.entries(r.totals).map(([k, v]) =>
        html`
          <tr>
            <td>${k}</td>
            <td class="num">${v}</td>
          </tr>
        `
      )}</tbody>
    </table>
  `;
}
