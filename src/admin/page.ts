// The live status page: plain HTML, a stylesheet and a script, all served by the admin
// endpoint itself (no external assets, works offline). The script polls /status.json
// every 2 seconds and redraws; the charts are inline SVG drawn from its history.

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>switchboard status</title>
<link rel="stylesheet" href="/status.css">
<link rel="icon" href="data:,">
<script src="/status.js" defer></script>
</head>
<body>
<header>
  <h1>switchboard</h1>
  <span id="ready" class="badge">…</span>
  <p id="about" class="muted">loading…</p>
</header>
<main>
  <section class="cards">
    <div class="card"><div class="label">open connections</div><div class="big" id="open-count">–</div>
      <div class="muted" id="oldest"></div></div>
    <div class="card"><div class="label">accepted</div><div class="big" id="accepted">–</div></div>
    <div class="card"><div class="label">refused</div><div class="big" id="refused">–</div></div>
    <div class="card"><div class="label">closed</div><div class="big" id="closed">–</div></div>
  </section>
  <section>
    <h2>Accepted and closed per second</h2>
    <div class="chart"><svg id="chart" viewBox="0 0 600 120" preserveAspectRatio="none" role="img"
      aria-label="accept and close rates"></svg></div>
    <p class="muted"><span class="key acc"></span> accepted <span class="key clo"></span> closed
      <span id="chart-span"></span></p>
  </section>
  <section class="two">
    <div>
      <h2>Limits hit</h2>
      <table id="limits"><tbody></tbody></table>
    </div>
    <div>
      <h2>Traffic</h2>
      <table id="traffic"><tbody></tbody></table>
    </div>
  </section>
  <section id="workers-section" hidden>
    <h2>Workers</h2>
    <div class="wide"><table id="workers"><thead><tr><th>id</th><th class="n">pid</th><th class="n">state</th>
      <th class="n">open</th><th class="n">accepted</th><th class="n">up</th><th class="n">restarts</th></tr></thead>
      <tbody></tbody></table></div>
  </section>
  <section>
    <h2>Open connections by bytes</h2>
    <table id="top"><thead><tr><th>peer</th><th class="n">age</th><th class="n">in</th><th class="n">out</th><th class="n">queued</th></tr>
      </thead>
      <tbody></tbody></table>
  </section>
  <section>
    <h2>Listeners</h2>
    <ul id="listeners"></ul>
  </section>
</main>
<footer class="muted" id="updated"></footer>
</body>
</html>
`;

export const PAGE_CSS = `:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fff; --mute: #667; --line: #dde;
  --acc: #2a7ae2; --clo: #d9822b; --ok: #2e8540; --bad: #c0392b; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e6e6; --bg: #16181c; --mute: #99a; --line: #333a44; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 960px; padding: 12px; font: 15px/1.4 system-ui, sans-serif; color: var(--fg);
  background: var(--bg); }
h1 { display: inline; font-size: 1.4em; margin-right: .5em; }
h2 { font-size: 1em; margin: 1.2em 0 .4em; }
.muted { color: var(--mute); font-size: .9em; }
.badge { padding: 2px 8px; border-radius: 10px; color: #fff; background: var(--mute); font-size: .85em; }
.badge.ok { background: var(--ok); } .badge.bad { background: var(--bad); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 8px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
.label { color: var(--mute); font-size: .85em; }
.big { font-size: 1.8em; font-variant-numeric: tabular-nums; }
.two { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 16px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
td, th { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--line); }
td.n, th.n { text-align: right; }
.chart { border: 1px solid var(--line); border-radius: 6px; height: 120px; }
.chart svg { width: 100%; height: 100%; display: block; }
.key { display: inline-block; width: 10px; height: 10px; border-radius: 2px; }
.key.acc { background: var(--acc); } .key.clo { background: var(--clo); }
polyline.acc { stroke: var(--acc); } polyline.clo { stroke: var(--clo); }
polyline { fill: none; stroke-width: 2; vector-effect: non-scaling-stroke; }
ul { padding-left: 1.2em; margin: 0; }
.wide { overflow-x: auto; } /* a wide table scrolls by itself on a phone, not the page */
#workers { font-size: .85em; } #workers td, #workers th { padding: 3px 4px; white-space: nowrap; }
footer { margin-top: 1.5em; }
`;

export const PAGE_JS = `"use strict";
const $ = (id) => document.getElementById(id);
const fmtInt = (n) => Math.round(n).toLocaleString("en");
function fmtBytes(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + " " + u[i];
}
function fmtAge(s) {
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + Math.floor(s % 60) + " s";
  if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h";
}
function rows(tbody, data) {
  tbody.replaceChildren(...data.map((cells) => {
    const tr = document.createElement("tr");
    cells.forEach((c, i) => {
      const td = document.createElement("td");
      td.textContent = String(c);
      if (i > 0) td.className = "n";
      tr.append(td);
    });
    return tr;
  }));
}
function line(svg, values, max, cls) {
  const pl = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  const n = values.length;
  const pts = values.map((v, i) => {
    const x = n > 1 ? (i / (n - 1)) * 600 : 600;
    return x.toFixed(1) + "," + (115 - (v / max) * 105).toFixed(1);
  });
  if (n === 1) pts.unshift("0," + pts[0].split(",")[1]);
  pl.setAttribute("points", pts.join(" "));
  pl.setAttribute("class", cls);
  svg.append(pl);
}
function draw(h) {
  const svg = $("chart");
  svg.replaceChildren();
  const per = (a) => a.map((v) => v / h.intervalSeconds);
  const acc = per(h.accepted), clo = per(h.closed);
  const max = Math.max(1, ...acc, ...clo);
  if (acc.length) { line(svg, acc, max, "acc"); line(svg, clo, max, "clo"); }
  const span = h.accepted.length * h.intervalSeconds;
  $("chart-span").textContent = acc.length
    ? " — last " + fmtAge(span) + ", peak " + max.toFixed(1) + "/s"
    : " — first point after " + h.intervalSeconds + " s";
}
function render(s) {
  const c = s.connections;
  $("open-count").textContent = fmtInt(c.open);
  $("oldest").textContent = c.oldestSeconds === null ? "none open" : "oldest " + fmtAge(c.oldestSeconds);
  $("accepted").textContent = fmtInt(c.accepted);
  $("refused").textContent = fmtInt(c.refused);
  $("closed").textContent = fmtInt(c.closed);
  const ready = $("ready");
  ready.textContent = s.ready ? "ready" : "not ready: " + s.notReadyReason;
  ready.className = "badge " + (s.ready ? "ok" : "bad");
  $("about").textContent = s.service + (s.framing ? " (" + s.framing + ")" : "") + " · switchboard " + s.version +
    " · " + s.runtimeVersion + " · up " + fmtAge(s.uptimeSeconds) +
    (s.workers ? " · " + s.workers.filter((w) => w.state === "listening").length + "/" + s.workers.length + " workers" : "");
  const limits = [];
  for (const [k, v] of Object.entries(s.refusedByReason)) limits.push(["refused: " + k, fmtInt(v)]);
  for (const [k, v] of Object.entries(s.closedByReason)) {
    if (/timeout|discard|protocol|worker-exit/.test(k)) limits.push(["closed: " + k, fmtInt(v)]);
  }
  rows($("limits").tBodies[0], limits);
  const l = s.limits;
  rows($("traffic").tBodies[0], [
    ["received", fmtBytes(s.bytes.received)],
    ["sent", fmtBytes(s.bytes.sent)],
    ["queued now", fmtBytes(s.bytes.queued)],
    ["frames in / out", fmtInt(s.frames.received) + " / " + fmtInt(s.frames.sent)],
    ["app requests", fmtInt(s.app.reduce((a, r) => a + r.count, 0))],
    ["memory (RSS)", s.memory.rssBytes === null ? "unknown" : fmtBytes(s.memory.rssBytes)],
    [(s.workers ? "max conns per worker" : "max conns") + " (per IP)", fmtInt(l.maxConns) + " (" + (l.maxConnsPerIp || "no limit") + ")"],
  ]);
  const ws = s.workers;
  $("workers-section").hidden = !ws;
  if (ws) {
    rows($("workers").tBodies[0], ws.map((w) => [w.id, w.pid === null ? "–" : String(w.pid), w.state,
      fmtInt(w.connections.open), fmtInt(w.connections.accepted),
      w.uptimeSeconds === null ? "–" : fmtAge(w.uptimeSeconds), fmtInt(w.restarts)]));
  }
  rows($("top").tBodies[0], c.top.length
    ? c.top.map((t) => [t.peer + (t.worker ? " (worker " + t.worker + ")" : ""), fmtAge(t.ageSeconds), fmtBytes(t.bytesIn), fmtBytes(t.bytesOut), fmtBytes(t.queuedBytes)])
    : [["none open", "", "", "", ""]]);
  $("listeners").replaceChildren(...s.listeners.map((a) => {
    const li = document.createElement("li");
    li.textContent = a + " — " + s.service;
    return li;
  }));
  draw(s.history);
  $("updated").textContent = "updated " + new Date().toLocaleTimeString() + " · refreshes every 2 s";
}
async function refresh() {
  try {
    const r = await fetch("/status.json", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
  } catch (e) {
    $("updated").textContent = "cannot reach the server (" + e.message + "); retrying";
    const ready = $("ready");
    ready.textContent = "unreachable";
    ready.className = "badge bad";
  }
}
refresh();
setInterval(refresh, 2000);
`;
