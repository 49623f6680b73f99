// Vigil's dashboard: the fleet at a glance, one host's metrics and score with anomalies
// shaded, the anomaly list with explanations, judged log sessions; live over SSE.
"use strict";

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"];
const SHADE = "rgba(214, 39, 40, 0.18)";
const params = new URLSearchParams(location.search);
const state = { detection: params.get("detection"), host: params.get("host"), view: null, plots: [], series: null };

const $ = (sel) => document.querySelector(sel);
const esc = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const fmt = (x, d = 3) => (x == null || !isFinite(x) ? "–" : Number(x).toFixed(d));
const secs = (iso) => Date.parse(iso) / 1000;
// Charts in UTC, as every time the API and the CSV files give.
const utc = (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC");

async function getJSON(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${(await r.json().catch(() => ({}))).detail ?? ""}`);
  return r.json();
}

function status(text) { $("#status").textContent = text; }

async function loadDetections() {
  const list = await getJSON("/v1/detections");
  const sel = $("#detection");
  sel.innerHTML = list.map((d) => `<option value="${esc(d.id)}">${esc(d.id)} · ${esc(d.model)} (${esc(d.task)}, ${esc(d.state)})</option>`).join("");
  if (!state.detection && list.length) state.detection = list[0].id;
  if (state.detection) sel.value = state.detection;
  if (!list.length) status("no detections yet: POST data to /v1/models/{name}/detect");
  return list;
}

async function loadDetection() {
  if (!state.detection) return;
  const v = await getJSON(`/v1/detections/${encodeURIComponent(state.detection)}`);
  state.view = v;
  const what = v.task === "logs"
    ? `${v.summary?.lines?.lines ?? "?"} lines, ${v.anomalous_sessions} of ${v.sessions_judged} sessions anomalous`
    : `${v.rows} rows, ${v.anomalies.length} anomalies`;
  status(what + (v.state === "running" ? " (running)" : ""));
  renderFleet(v);
  renderAnomalies(v);
  renderSessions(v);
  if (v.error) status(`${v.id} failed: ${v.error}`);
  if (v.task === "metrics") {
    if (state.host == null || !v.hosts.some((h) => h.host === state.host)) {
      const worst = [...v.hosts].sort((a, b) => b.anomalies - a.anomalies)[0];
      state.host = worst ? worst.host : null;
    }
    if (state.host != null) await loadHost(state.host);
    else clearHost();
  }
  document.body.dataset.ready = "1";
}

function renderFleet(v) {
  $("#fleet-panel").hidden = false;
  $("#fleet tbody").innerHTML = v.hosts.map((h) =>
    `<tr class="clickable${h.host === state.host ? " selected" : ""}${h.open ? " open" : ""}" data-host="${esc(h.host)}">` +
    `<td>${esc(h.host)}</td><td>${h.rows}</td><td>${fmt(h.latest_score)}</td><td>${h.anomalies}</td><td>${h.open ? "yes" : ""}</td></tr>`).join("");
  for (const tr of document.querySelectorAll("#fleet tbody tr")) tr.onclick = () => selectHost(tr.dataset.host);
}

function renderAnomalies(v) {
  const rows = v.anomalies.filter((a) => !state.host || a.host === state.host || v.task !== "metrics");
  $("#anomalies tbody").innerHTML = rows.map((a, i) =>
    `<tr class="clickable anomaly" data-i="${i}" data-host="${esc(a.host)}"><td>${esc(a.host)}</td><td>${esc(a.start)}</td><td>${esc(a.end)}</td>` +
    `<td>${fmt(a.peak_score)}</td><td>${esc(a.top_metrics.join(", "))}</td><td class="explanation">${esc(a.explanation)}</td></tr>`).join("");
  for (const tr of document.querySelectorAll("#anomalies tbody tr")) {
    tr.onclick = () => {
      const a = rows[Number(tr.dataset.i)];
      selectHost(a.host).then(() => zoomTo(secs(a.start), secs(a.end))).catch((err) => status(err.message));
    };
  }
}

function renderSessions(v) {
  const logs = v.task === "logs";
  $("#logs-panel").hidden = !logs;
  $("#fleet").hidden = logs;
  $("#fleet-title").hidden = logs;
  $("#host-panel").hidden = logs;
  if (!logs) return;
  $("#sessions-summary").textContent = `${v.anomalous_sessions} of ${v.sessions_judged} sessions judged anomalous`;
  renderTimeline(v.summary?.timeline);
  $("#sessions tbody").innerHTML = v.sessions.map((s) =>
    `<tr class="session"><td>${esc(s.session)}</td><td>${s.score}</td><td>${s.events}</td><td>${s.first_anomalous_line ?? ""}</td><td class="explanation">${esc(s.reason)}</td></tr>`).join("");
}

// The log's most frequent templates, lines per time bucket (the detector's timeline).
function renderTimeline(t) {
  const el = $("#templates-chart");
  for (const p of state.plots) p.destroy();
  state.plots = [];
  el.innerHTML = "";
  if (!t || !t.series.length) {
    el.textContent = "no timed lines in this log";
    el.dataset.series = "0";
    return;
  }
  const n = t.series[0].counts.length;
  const time = Array.from({ length: n }, (_, i) => t.start + i * t.bucket_seconds);
  const short = (s) => (s.length > 60 ? s.slice(0, 57) + "…" : s);
  const plot = new uPlot({
    width: Math.max(400, $("#logs-panel").clientWidth - 30), height: 280, tzDate: utc,
    scales: { x: { time: true } },
    series: [{}, ...t.series.map((v, k) => ({
      label: `${v.id}: ${short(v.text)}`, stroke: COLORS[k % COLORS.length], width: 1.2,
      paths: uPlot.paths.stepped({ align: 1 }),
    }))],
    axes: [{}, { label: `lines per ${t.bucket_seconds >= 3600 ? t.bucket_seconds / 3600 + " h" : t.bucket_seconds / 60 + " min"}` }],
  }, [time, ...t.series.map((v) => v.counts)], el);
  state.plots = [plot];
  el.dataset.series = String(t.series.length);
}

async function selectHost(host) {
  state.host = host;
  const u = new URL(location.href);
  u.searchParams.set("host", host);
  if (state.detection) u.searchParams.set("detection", state.detection);
  history.replaceState(null, "", u);
  renderFleet(state.view);
  renderAnomalies(state.view);
  await loadHost(host);
}

// Anomalies shaded over the whole plot height; the count drawn is kept on the chart
// element (data-shaded) for tests and people reading the DOM.
function shadePlugin(getBands) {
  return {
    hooks: {
      drawClear: [(u) => {
        const ctx = u.ctx;
        let drawn = 0;
        ctx.save();
        ctx.fillStyle = SHADE;
        for (const [a, b] of getBands()) {
          const x0 = u.valToPos(a, "x", true), x1 = u.valToPos(b, "x", true);
          const left = Math.max(u.bbox.left, Math.min(x0, x1));
          const right = Math.min(u.bbox.left + u.bbox.width, Math.max(x0, x1));
          if (right <= left) continue;
          ctx.fillRect(left, u.bbox.top, Math.max(right - left, 2), u.bbox.height);
          drawn++;
        }
        ctx.restore();
        u.root.parentElement.dataset.shaded = String(drawn);
      }],
    },
  };
}

// The score drawn as points coloured by the metric with the largest share.
function topColourPlugin(s) {
  return {
    hooks: {
      draw: [(u) => {
        const ctx = u.ctx;
        ctx.save();
        const [i0, i1] = [u.series[0].idxs?.[0] ?? 0, u.series[0].idxs?.[1] ?? s.time.length - 1];
        const r = 2.2 * devicePixelRatio;
        for (let i = i0; i <= i1; i++) {
          const y = s.score[i];
          if (y == null || s.top[i] == null) continue;
          ctx.fillStyle = COLORS[s.top[i] % COLORS.length];
          ctx.beginPath();
          ctx.arc(u.valToPos(s.time[i], "x", true), u.valToPos(y, "y", true), r, 0, 2 * Math.PI);
          ctx.fill();
        }
        ctx.restore();
      }],
    },
  };
}

function hoverPlugin(s) {
  const box = $("#hover");
  return {
    hooks: {
      setCursor: [(u) => {
        const i = u.cursor.idx;
        if (i == null || u.cursor.left < 0) { box.hidden = true; return; }
        const t = s.time[i];
        const a = s.anomalies.find((a) => t >= secs(a.start) && t < secs(a.end));
        const vals = s.columns.map((c, k) => `${esc(c)} ${fmt(s.values[k][i], 2)}`).join(" · ");
        box.innerHTML = `<b>${esc(new Date(t * 1000).toISOString())}</b><br>${vals}<br>score ${fmt(s.score[i])}` +
          (s.top[i] != null ? ` (top: ${esc(s.columns[s.top[i]])})` : "") +
          (a ? `<hr><b>Anomaly</b>: ${esc(a.explanation)}` : "");
        const rect = u.over.getBoundingClientRect();
        box.style.left = `${Math.min(rect.left + u.cursor.left + 16, innerWidth - 440)}px`;
        box.style.top = `${rect.top + u.cursor.top + 16}px`;
        box.hidden = false;
      }],
    },
  };
}

async function loadHost(host) {
  const s = await getJSON(`/v1/detections/${encodeURIComponent(state.detection)}/series?host=${encodeURIComponent(host)}`);
  state.series = s;
  $("#host-title").textContent = `${host || "(one series)"}: metrics and score${s.thinned ? " (thinned: the highest score of each stretch)" : ""}`;
  $("#legend-note").innerHTML = "score coloured by its top metric:" + s.columns.map((c, k) => `<span class="swatch" style="background:${COLORS[k % COLORS.length]}"></span>${esc(c)}`).join("");
  for (const p of state.plots) p.destroy();
  state.plots = [];
  const width = Math.max(400, $("#host-panel").clientWidth - 30);
  const bands = () => s.anomalies.map((a) => [secs(a.start), secs(a.end)]);
  const sync = uPlot.sync("vigil");
  const cursor = { sync: { key: sync.key }, drag: { x: true, y: false } };
  const metrics = new uPlot({
    width, height: 260, cursor, tzDate: utc, plugins: [shadePlugin(bands), hoverPlugin(s)],
    scales: { x: { time: true } },
    series: [{}, ...s.columns.map((c, k) => ({ label: c, stroke: COLORS[k % COLORS.length], width: 1.2, value: (u, v) => fmt(v, 2) }))],
    axes: [{}, { label: "value" }],
  }, [s.time, ...s.values], $("#metrics-chart"));
  const threshold = s.time.map(() => s.threshold);
  const score = new uPlot({
    width, height: 200, cursor, tzDate: utc, plugins: [shadePlugin(bands), topColourPlugin(s), hoverPlugin(s)],
    scales: { x: { time: true } },
    series: [{}, { label: "score", stroke: "#8889", width: 1, value: (u, v) => fmt(v) },
      { label: "threshold", stroke: "#d62728", dash: [6, 4], width: 1, value: (u, v) => fmt(v) }],
    axes: [{}, { label: "score" }],
  }, [s.time, s.score, threshold], $("#score-chart"));
  state.plots = [metrics, score];
  for (const p of state.plots) {
    p.root.addEventListener("mouseleave", () => { $("#hover").hidden = true; });
  }
  // Zoom on one chart zooms the other.
  for (const [a, b] of [[metrics, score], [score, metrics]]) {
    a.hooks.setScale = [(u, key) => { if (key === "x") b.setScale("x", { min: u.scales.x.min, max: u.scales.x.max }); }];
  }
}

function clearHost() {
  for (const p of state.plots) p.destroy();
  state.plots = [];
  $("#host-title").textContent = "No host in this detection";
  $("#legend-note").textContent = "";
}

function zoomTo(a, b) {
  const pad = Math.max((b - a) * 2, 3600);
  for (const p of state.plots) p.setScale("x", { min: a - pad, max: b + pad });
}

async function loadJobs() {
  const jobs = await getJSON("/v1/jobs");
  $("#jobs tbody").innerHTML = jobs.slice(0, 20).map((j) => {
    const last = j.epochs[j.epochs.length - 1];
    return `<tr><td>${esc(j.id)}</td><td>${esc(j.model)}</td><td>${esc(j.state)}${j.error ? `: ${esc(j.error)}` : ""}</td>` +
      `<td>${j.epochs_done}/${j.max_epochs}</td><td>${last ? fmt(last.valid, 5) : ""}</td></tr>`;
  }).join("");
}

// At most one refresh a second while events arrive (a throttle, so a running detection's
// steady progress events still refresh the page).
let refreshing = false, again = null;
function soon(fn) {
  if (refreshing) { again = fn; return; }
  refreshing = true;
  Promise.resolve(fn()).catch(console.error).finally(() => setTimeout(() => {
    refreshing = false;
    if (again) { const f = again; again = null; soon(f); }
  }, 1000));
}

function live() {
  const es = new EventSource("/v1/events");
  es.onopen = () => $("#live").classList.remove("off");
  es.onerror = () => $("#live").classList.add("off");
  es.addEventListener("job", () => loadJobs().catch(console.error));
  es.addEventListener("detection", (e) => {
    const d = JSON.parse(e.data);
    soon(async () => {
      const isNew = !state.detection;
      await loadDetections();
      if (d.id === state.detection || isNew) await loadDetection();
    });
  });
}

$("#detection").onchange = (e) => { state.detection = e.target.value; state.host = null; loadDetection().catch((err) => status(err.message)); };

(async () => {
  try {
    await loadDetections();
    await loadJobs();
    await loadDetection();
    document.body.dataset.ready = "1";
  } catch (err) {
    status(err.message);
    document.body.dataset.ready = "error";
  }
  // ?live=0: a still page (no event stream), e.g. for a screenshot.
  if (params.get("live") !== "0") live();
})();
