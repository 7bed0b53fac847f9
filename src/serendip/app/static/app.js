/* serendip explore: the browser side.  Plain JavaScript + Plotly (served by the backend), no build step.
 *
 * Views: embedding (scattergl of every source), source (E-t map, light curve + hardness, tables,
 * neighbours), review (keyboard labelling, re-rank curve), catalogue (classification results), export.
 * document.body.dataset.ready = "1" once the embedding has rendered; window.serendipTiming holds the
 * load-time breakdown (ms since navigation start) used by benchmarks/bench_explore.py.
 */
"use strict";

const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
  "#bcbd22", "#7f7f7f", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
  "#f7b6d2", "#9edae5", "#dbdb8d", "#393b79",
];
const MISSING_COLOUR = "#cccccc";
const PLOT_CONFIG = { displaylogo: false, responsive: true };
const SMALL_CONFIG = { displaylogo: false, responsive: true, displayModeBar: false };
const params = new URLSearchParams(window.location.search);
const SCATTER_TYPE = params.get("render") === "svg" ? "scatter" : "scattergl";

const state = {
  meta: null,
  points: null, // columnar /api/points
  indexOf: new Map(), // obsreg_id -> row index
  knownIdx: [], // row indices of known transients (trace 1)
  highlightIdx: [], // row indices of highlighted analogs (trace 2)
  selected: [], // selected obsreg_ids
  sourceId: null,
  sourceCache: new Map(),
  labels: new Map(), // obsreg_id -> {label, note, time}
  cands: [],
  pos: 0,
  catalog: null,
  catalogCols: null,
};
window.serendip = { state }; // filled with the view functions below, for tests and the console
window.serendipTiming = { start: performance.now() };
// Start both requests now (app.js loads before plotly.min.js), so the transfer overlaps Plotly's parse.
const EARLY = {
  meta: fetch("/api/meta"),
  points: fetch("/api/points"),
};

/* ---------- small helpers ---------- */
const $ = (id) => document.getElementById(id);

function fmt(v) {
  if (v === null || v === undefined) return "\u2014";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v)) return String(v);
    return String(Number(v.toPrecision(4)));
  }
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function setStatus(text, isError = false) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("error", isError);
}

async function apiError(resp) {
  let detail = resp.statusText;
  try {
    const body = await resp.json();
    if (body && body.detail !== undefined) detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
  } catch (_e) { /* not JSON */ }
  return new Error(`${resp.url.replace(location.origin, "")}: HTTP ${resp.status} ${detail}`);
}

async function apiGet(url) {
  const resp = await fetch(url);
  if (!resp.ok) throw await apiError(resp);
  return resp.json();
}

async function apiPost(url, body) {
  const resp = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body === undefined ? {} : body),
  });
  if (!resp.ok) throw await apiError(resp);
  return resp;
}

function reportError(err) {
  console.error(err);
  setStatus(String(err.message || err), true);
}

function fillKv(tableId, obj) {
  const tbody = $(tableId).querySelector("tbody");
  tbody.replaceChildren();
  for (const [k, v] of Object.entries(obj || {})) {
    const tr = document.createElement("tr");
    const a = document.createElement("td");
    const b = document.createElement("td");
    a.textContent = k;
    b.textContent = fmt(v);
    tr.append(a, b);
    tbody.append(tr);
  }
}

function fillRows(tableId, rows, columns, onClick) {
  const tbody = $(tableId).querySelector("tbody");
  tbody.replaceChildren();
  for (const row of rows) {
    const tr = document.createElement("tr");
    tr.dataset.id = row.obsreg_id;
    for (const c of columns) {
      const td = document.createElement("td");
      td.textContent = fmt(row[c]);
      tr.append(td);
    }
    if (onClick) tr.addEventListener("click", () => onClick(row));
    tbody.append(tr);
  }
}

/* ---------- tabs ---------- */
function showPane(name) {
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.dataset.pane === name);
  for (const pane of document.querySelectorAll(".pane")) pane.classList.toggle("active", pane.id === `pane-${name}`);
  document.body.dataset.pane = name;
  for (const gd of document.querySelectorAll(`#pane-${name} .js-plotly-plot`)) Plotly.Plots.resize(gd);
  if (name === "catalog" && !state.catalog) loadCatalog().catch(reportError);
  if (name === "review" && state.cands.length === 0) {
    if (!$("rerank-plot").data) {
      const f = emptyFigure("press r (re-rank): interesting found vs inspected appears here");
      Plotly.newPlot($("rerank-plot"), f.data, f.layout, SMALL_CONFIG);
    }
    loadCandidates().catch(reportError);
  }
}

function activePane() {
  return document.body.dataset.pane || "embedding";
}

/* ---------- embedding view ---------- */
function colourOptions() {
  const opts = [
    { name: "cluster", type: "categorical" },
    { name: "known_type", type: "categorical" },
    { name: "score", type: "numeric" },
  ];
  for (const c of state.meta.colour_by || []) {
    if (!opts.some((o) => o.name === c.name)) opts.push(c);
  }
  return opts.filter((o) => Array.isArray(state.points[o.name]));
}

function categoricalColours(values) {
  const counts = new Map();
  for (const v of values) if (v !== null && v !== undefined) counts.set(v, (counts.get(v) || 0) + 1);
  const cats = [...counts.keys()].sort((a, b) => counts.get(b) - counts.get(a));
  const colourOf = new Map();
  let i = 0;
  for (const c of cats) {
    // HDBSCAN noise (-1) is grey.
    colourOf.set(c, c === -1 || c === "-1" ? "#bbbbbb" : PALETTE[i++ % PALETTE.length]);
  }
  const colours = values.map((v) => (v === null || v === undefined ? MISSING_COLOUR : colourOf.get(v)));
  return { colours, cats, counts, colourOf };
}

function markerSize() {
  // Smaller, more transparent markers as the embedding fills up.
  const n = state.points.x.length;
  if (n > 30000) return { size: 2.5, opacity: 0.6 };
  if (n > 5000) return { size: 3, opacity: 0.7 };
  return { size: 4, opacity: 0.8 };
}

function defaultColour(options) {
  // Cluster colours when the clustering splits the sources (largest cluster < 90 %), else the score.
  const names = options.map((o) => o.name);
  const cl = state.points.cluster;
  if (names.includes("cluster") && Array.isArray(cl)) {
    const counts = new Map();
    for (const c of cl) counts.set(c, (counts.get(c) || 0) + 1);
    if (Math.max(...counts.values()) < 0.9 * cl.length) return "cluster";
  }
  return names.includes("score") ? "score" : names[0];
}

function markerFor(name) {
  const opt = colourOptions().find((o) => o.name === name) || { name, type: "numeric" };
  const values = state.points[name];
  const legend = $("colour-legend");
  legend.replaceChildren();
  if (opt.type === "categorical") {
    const { colours, cats, counts, colourOf } = categoricalColours(values);
    const title = document.createElement("h3");
    title.textContent = name;
    legend.append(title);
    for (const c of cats.slice(0, 25)) {
      const row = document.createElement("div");
      row.className = "legend-row";
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = colourOf.get(c);
      const label = document.createElement("span");
      label.textContent = `${fmt(c)} (${counts.get(c)})`;
      row.append(sw, label);
      legend.append(row);
    }
    if (cats.length > 25) legend.append(`\u2026 ${cats.length - 25} more`);
    return { color: colours, showscale: false, colorscale: null, ...markerSize() };
  }
  const nums = values.map((v) => (v === null || v === undefined ? NaN : v));
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of nums) {
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
  return {
    color: nums, colorscale: "Viridis", cmin: lo, cmax: hi, showscale: true,
    colorbar: { title: { text: name }, thickness: 12 }, ...markerSize(),
  };
}

function embeddingTraces(colourName) {
  const P = state.points;
  const kx = state.knownIdx.map((i) => P.x[i]);
  const ky = state.knownIdx.map((i) => P.y[i]);
  const kt = state.knownIdx.map((i) => `${P.obsreg_id[i]}<br>${P.known_type[i]}`);
  return [
    {
      type: SCATTER_TYPE, mode: "markers", name: "sources", x: P.x, y: P.y, text: P.obsreg_id,
      hovertemplate: "%{text}<extra></extra>", marker: markerFor(colourName), showlegend: false,
    },
    {
      type: SCATTER_TYPE, mode: "markers", name: "known transients", x: kx, y: ky, text: kt,
      hovertemplate: "%{text}<extra></extra>", visible: $("show-known").checked,
      marker: { symbol: "circle-open", size: 11, color: "#000000", line: { width: 1.5 } },
    },
    {
      type: SCATTER_TYPE, mode: "markers", name: "analogs", x: [], y: [], text: [],
      hovertemplate: "%{text}<extra>analog</extra>",
      marker: { symbol: "diamond-open", size: 15, color: "#e41a1c", line: { width: 2 } },
    },
  ];
}

async function renderEmbedding() {
  const P = state.points;
  const n = P.obsreg_id.length;
  state.indexOf = new Map();
  for (let i = 0; i < n; i++) state.indexOf.set(P.obsreg_id[i], i);
  state.knownIdx = [];
  if (Array.isArray(P.known_type)) {
    for (let i = 0; i < n; i++) if (P.known_type[i] !== null && P.known_type[i] !== undefined && P.known_type[i] !== "") state.knownIdx.push(i);
  }
  const sel = $("colour-by");
  sel.replaceChildren();
  const options = colourOptions();
  for (const o of options) {
    const opt = document.createElement("option");
    opt.value = o.name;
    opt.textContent = `${o.name} (${o.type})`;
    sel.append(opt);
  }
  sel.value = defaultColour(options);
  const gd = $("embed-plot");
  const layout = {
    margin: { l: 40, r: 10, t: 30, b: 30 },
    title: { text: `${n.toLocaleString()} sources`, font: { size: 13 } },
    xaxis: { title: { text: "embedding x" }, zeroline: false },
    yaxis: { title: { text: "embedding y" }, zeroline: false },
    dragmode: "zoom", hovermode: "closest", uirevision: "keep",
    legend: { orientation: "h", y: -0.06 },
  };
  await Plotly.newPlot(gd, embeddingTraces(sel.value), layout, PLOT_CONFIG);
  gd.on("plotly_click", (ev) => {
    const pt = ev && ev.points && ev.points[0];
    if (!pt) return;
    const idx = rowIndexOf(pt);
    if (idx !== undefined) openSource(P.obsreg_id[idx]).catch(reportError);
  });
  gd.on("plotly_selected", (ev) => {
    const rows = new Set();
    for (const pt of (ev && ev.points) || []) {
      const idx = rowIndexOf(pt);
      if (idx !== undefined) rows.add(idx);
    }
    setSelection([...rows].map((i) => P.obsreg_id[i]));
  });
  gd.on("plotly_deselect", () => setSelection([]));
  fillKnownTable();
}

function rowIndexOf(pt) {
  const i = pt.pointIndex !== undefined ? pt.pointIndex : pt.pointNumber;
  if (pt.curveNumber === 0) return i;
  if (pt.curveNumber === 1) return state.knownIdx[i];
  if (pt.curveNumber === 2) return state.highlightIdx[i];
  return undefined;
}

function recolour() {
  const m = markerFor($("colour-by").value);
  Plotly.restyle($("embed-plot"), { marker: [m] }, [0]);
}

function setSelection(ids) {
  state.selected = ids;
  $("selection-count").textContent = String(ids.length);
  $("export-n-selected").textContent = String(ids.length);
  const P = state.points;
  const rows = ids.slice(0, 300).map((id) => {
    const i = state.indexOf.get(id);
    return { obsreg_id: id, score: P.score ? P.score[i] : null, known_type: P.known_type ? P.known_type[i] : null };
  });
  fillRows("selection-table", rows, ["obsreg_id", "score", "known_type"], (r) => openSource(r.obsreg_id).catch(reportError));
}

function fillKnownTable() {
  const P = state.points;
  if (state.knownIdx.length === 0) return;
  const side = document.querySelector("#pane-embedding .side");
  const h = document.createElement("h3");
  h.textContent = `Known transients (${state.knownIdx.length})`;
  const table = document.createElement("table");
  table.id = "known-table";
  table.className = "rows";
  table.dataset.testid = "known-table";
  table.append(document.createElement("tbody"));
  side.append(h, table);
  const rows = state.knownIdx.slice(0, 500).map((i) => ({ obsreg_id: P.obsreg_id[i], known_type: P.known_type[i] }));
  fillRows("known-table", rows, ["obsreg_id", "known_type"], (r) => openSource(r.obsreg_id).catch(reportError));
}

function highlight(ids) {
  const P = state.points;
  state.highlightIdx = ids.map((id) => state.indexOf.get(id)).filter((i) => i !== undefined);
  const hx = state.highlightIdx.map((i) => P.x[i]);
  const hy = state.highlightIdx.map((i) => P.y[i]);
  const ht = state.highlightIdx.map((i) => P.obsreg_id[i]);
  Plotly.restyle($("embed-plot"), { x: [hx], y: [hy], text: [ht] }, [2]);
}

/* ---------- source view ---------- */
async function getSource(id) {
  if (state.sourceCache.has(id)) return state.sourceCache.get(id);
  const src = await apiGet(`/api/source/${encodeURIComponent(id)}`);
  if (state.sourceCache.size > 200) state.sourceCache.delete(state.sourceCache.keys().next().value);
  state.sourceCache.set(id, src);
  return src;
}

async function getEtMap(id) {
  if (state.sourceCache.has(id)) return state.sourceCache.get(id);
  return apiGet(`/api/etmap/${encodeURIComponent(id)}`);
}

function emptyFigure(text) {
  return {
    data: [],
    layout: {
      margin: { l: 10, r: 10, t: 10, b: 10 }, xaxis: { visible: false }, yaxis: { visible: false },
      annotations: [{ text, showarrow: false, x: 0.5, y: 0.5, xref: "paper", yref: "paper" }],
    },
  };
}

function etMapFigure(et, small) {
  if (!et) return emptyFigure("no events for this source");
  const trace = {
    type: "heatmap", z: et.z, x: et.time_edges_s, y: et.energy_edges_kev, colorscale: "Viridis",
    showscale: !small, hovertemplate: "t %{x:.0f} s<br>E %{y:.2f} keV<br>%{z} counts<extra></extra>",
    colorbar: small ? undefined : { title: { text: "counts" }, thickness: 12 },
  };
  const layout = small
    ? { margin: { l: 25, r: 5, t: 5, b: 20 }, xaxis: { showticklabels: false }, yaxis: { tickfont: { size: 8 } } }
    : {
      margin: { l: 55, r: 10, t: 30, b: 45 }, title: { text: "E\u2013t map", font: { size: 13 } },
      xaxis: { title: { text: "time (s)" } }, yaxis: { title: { text: "energy (keV)" } },
    };
  return { data: [trace], layout };
}

function lightcurveFigure(lc, small) {
  if (!lc || !lc.t_s || lc.t_s.length === 0) return emptyFigure("no light curve for this source");
  const rate = {
    type: "scatter", mode: "markers", name: "rate", x: lc.t_s, y: lc.rate,
    error_y: { type: "data", array: lc.rate_err, visible: true, thickness: 1 },
    error_x: { type: "constant", value: (lc.bin_s || 0) / 2, visible: true, thickness: 1, width: 0 },
    marker: { size: 4, color: "#1f77b4" }, xaxis: "x", yaxis: "y",
  };
  const hr = {
    type: "scatter", mode: "markers+lines", name: "hardness", x: lc.t_s, y: lc.hardness,
    marker: { size: 3, color: "#d62728" }, line: { width: 1 }, xaxis: "x", yaxis: "y2",
  };
  const layout = {
    showlegend: false,
    margin: small ? { l: 40, r: 5, t: 5, b: 30 } : { l: 55, r: 10, t: 30, b: 45 },
    title: small ? undefined : { text: `light curve (bin ${fmt(lc.bin_s)} s) and hardness ratio`, font: { size: 13 } },
    xaxis: { title: small ? undefined : { text: "time (s)" }, anchor: "y2" },
    yaxis: { domain: [0.38, 1], title: { text: "rate (ct/s)" } },
    yaxis2: { domain: [0, 0.3], title: { text: "HR" }, zeroline: true },
  };
  return { data: [rate, hr], layout };
}

async function openSource(id, { switchPane = true } = {}) {
  if (switchPane) showPane("source");
  setStatus(`loading ${id}\u2026`);
  const src = await getSource(id);
  state.sourceId = id;
  $("source-id").textContent = id;
  $("find-analogs").disabled = false;
  const lab = state.labels.get(id);
  $("source-label").textContent = lab ? `label: ${lab.label}${lab.note ? ` (${lab.note})` : ""}` : "";
  const et = etMapFigure(src.et_map, false);
  await Plotly.react($("et-map"), et.data, et.layout, PLOT_CONFIG);
  const lc = lightcurveFigure(src.lightcurve, false);
  await Plotly.react($("lightcurve"), lc.data, lc.layout, PLOT_CONFIG);
  fillKv("props-table", src.properties);
  fillKv("features-table", src.features);
  renderNeighbours(src.neighbours || []);
  setStatus(`source ${id}`);
  document.body.dataset.sourceReady = id;
}

function renderNeighbours(rows) {
  const box = $("neighbours");
  box.replaceChildren();
  for (const nb of rows) {
    const card = document.createElement("div");
    card.className = "card";
    card.dataset.id = nb.obsreg_id;
    card.dataset.testid = "neighbour-card";
    const head = document.createElement("div");
    head.className = "head";
    head.textContent = `${nb.obsreg_id}  d=${fmt(nb.distance)}  score=${fmt(nb.score)}${nb.known_type ? `  [${nb.known_type}]` : ""}`;
    const mini = document.createElement("div");
    mini.className = "mini";
    card.append(head, mini);
    card.addEventListener("click", () => openSource(nb.obsreg_id).catch(reportError));
    box.append(card);
    getEtMap(nb.obsreg_id)
      .then((s) => {
        if (!s.et_map) throw new Error("no map");
        const f = etMapFigure(s.et_map, true);
        return Plotly.newPlot(mini, f.data, f.layout, { ...SMALL_CONFIG, staticPlot: true });
      })
      .catch(() => { mini.textContent = "no map"; });
  }
}

async function findAnalogs(id) {
  const k = Math.max(1, parseInt($("analog-k").value, 10) || 10);
  const res = await apiGet(`/api/analogs/${encodeURIComponent(id)}?k=${k}`);
  const ids = res.neighbours.map((r) => r.obsreg_id);
  showPane("embedding");
  highlight([id, ...ids]);
  setSelection(ids);
  setStatus(`${ids.length} analogs of ${id} highlighted (red diamonds)`);
}

/* ---------- candidate review ---------- */
function fmtTime(t) {
  // Label times are Unix seconds (or ISO strings); show local date and time to the second.
  const d = typeof t === "number" ? new Date(t * 1000) : new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  const pad = (x) => String(x).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

async function loadLabels() {
  const res = await apiGet("/api/labels");
  state.labels = new Map(res.rows.map((r) => [r.obsreg_id, r]));
  $("n-labels").textContent = String(res.rows.length);
  const rows = res.rows
    .map((r) => ({ ...r, when: fmtTime(r.time), sortKey: typeof r.time === "number" ? r.time : Date.parse(r.time) / 1000 }))
    .sort((a, b) => b.sortKey - a.sortKey);
  fillRows("labels-table", rows, ["obsreg_id", "label", "note", "when"], (r) => openSource(r.obsreg_id).catch(reportError));
}

async function loadCandidates() {
  const order = $("review-order").value;
  const res = await apiGet(`/api/candidates?order=${encodeURIComponent(order)}&limit=500`);
  state.cands = res.rows;
  state.pos = 0;
  await showCandidate();
}

function renderLabelButtons() {
  const box = $("label-buttons");
  box.replaceChildren();
  state.meta.label_choices.forEach((choice, i) => {
    const b = document.createElement("button");
    b.textContent = i < 9 ? `${i + 1} ${choice}` : choice;
    b.dataset.label = choice;
    b.dataset.testid = `label-${i + 1}`;
    b.addEventListener("click", () => labelCurrent(choice).catch(reportError));
    box.append(b);
  });
}

async function showCandidate() {
  const n = state.cands.length;
  if (n === 0) {
    $("review-id").textContent = "no candidates left";
    $("review-info").textContent = "";
    $("review-pos").textContent = "0 / 0";
    return;
  }
  state.pos = Math.min(Math.max(state.pos, 0), n - 1);
  const row = state.cands[state.pos];
  const lab = state.labels.get(row.obsreg_id);
  $("review-id").textContent = row.obsreg_id;
  $("review-pos").textContent = `${state.pos + 1} / ${n}`;
  $("review-info").textContent =
    `rank ${fmt(row.rank)} \u00b7 score ${fmt(row.score)} \u00b7 active ${fmt(row.active_score)} \u00b7 ${row.reason || ""}`;
  $("review-note").value = lab ? lab.note || "" : "";
  for (const b of $("label-buttons").children) b.classList.toggle("current", !!lab && b.dataset.label === lab.label);
  const id = row.obsreg_id;
  const src = await getSource(id);
  if (state.cands[state.pos] && state.cands[state.pos].obsreg_id !== id) return; // moved on meanwhile
  const et = etMapFigure(src.et_map, false);
  et.layout.title = { text: `${id} E\u2013t map`, font: { size: 12 } };
  await Plotly.react($("review-et"), et.data, et.layout, SMALL_CONFIG);
  const lc = lightcurveFigure(src.lightcurve, false);
  await Plotly.react($("review-lc"), lc.data, lc.layout, SMALL_CONFIG);
}

async function labelCurrent(label) {
  const row = state.cands[state.pos];
  if (!row) return;
  const note = $("review-note").value;
  const saved = $("saved");
  saved.textContent = "saving\u2026";
  saved.classList.remove("error");
  try {
    const resp = await apiPost("/api/labels", { obsreg_id: row.obsreg_id, label, note });
    const res = await resp.json();
    state.labels.set(row.obsreg_id, { obsreg_id: row.obsreg_id, label, note, time: Date.now() / 1000 });
    $("n-labels").textContent = String(res.n_labels);
    saved.textContent = `saved: ${row.obsreg_id} \u2192 ${label}`;
    document.body.dataset.lastSaved = `${row.obsreg_id}:${label}`;
  } catch (err) {
    saved.textContent = "NOT saved";
    saved.classList.add("error");
    throw err;
  }
  loadLabels().catch(reportError);
  if (state.pos < state.cands.length - 1) state.pos += 1;
  await showCandidate();
}

async function rerank() {
  setStatus("re-ranking\u2026");
  const resp = await apiPost("/api/rerank", {});
  const res = await resp.json();
  const c = res.curve || { n_inspected: [], n_interesting: [] };
  const n = c.n_inspected.length ? c.n_inspected[c.n_inspected.length - 1] : 0;
  const found = c.n_interesting.length ? c.n_interesting[c.n_interesting.length - 1] : 0;
  await Plotly.react(
    $("rerank-plot"),
    [
      { type: "scatter", mode: "lines", name: "found", x: c.n_inspected, y: c.n_interesting, line: { shape: "hv", width: 2 } },
    ],
    {
      margin: { l: 45, r: 10, t: 30, b: 40 }, showlegend: false,
      title: { text: `interesting found vs inspected (${res.strategy})`, font: { size: 12 } },
      xaxis: { title: { text: "inspected" }, range: [0, Math.max(n, 1)], dtick: Math.max(1, Math.ceil(n / 8)) },
      yaxis: {
        title: { text: "interesting" }, range: [0, Math.max(found, 1) * 1.05], dtick: Math.max(1, Math.ceil(found / 6)),
      },
    },
    SMALL_CONFIG,
  );
  $("review-order").value = "active";
  await loadCandidates();
  setStatus(`re-ranked with ${res.n_labels} labels (${res.strategy})`);
}

function onKey(ev) {
  if (activePane() !== "review" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const tag = ev.target && ev.target.tagName;
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") {
    if (ev.key === "Escape" || (ev.key === "Enter" && ev.target.id === "review-note")) ev.target.blur();
    return;
  }
  const key = ev.key;
  if (key === "j" || key === "ArrowDown") {
    ev.preventDefault();
    state.pos += 1;
    showCandidate().catch(reportError);
  } else if (key === "k" || key === "ArrowUp") {
    ev.preventDefault();
    state.pos -= 1;
    showCandidate().catch(reportError);
  } else if (key === "n") {
    ev.preventDefault();
    $("review-note").focus();
  } else if (key === "r") {
    ev.preventDefault();
    rerank().catch(reportError);
  } else if (/^[1-9]$/.test(key)) {
    const choice = state.meta.label_choices[Number(key) - 1];
    if (choice !== undefined) {
      ev.preventDefault();
      labelCurrent(choice).catch(reportError);
    }
  }
}

/* ---------- catalogue view ---------- */
const CLASS_COLS = ["class", "cls", "pred_class", "predicted_class", "best_class"];
const ID_COLS = ["obsreg_id", "name", "source_id", "id"];

function catalogColumns(res) {
  // Backend shape: {"classes", "n_total", "n", "numeric": [...], "columns": {name: [...]}}; a plain
  // columnar object is accepted too.
  const cat = res.columns || res;
  const names = Object.keys(cat);
  const cls = CLASS_COLS.find((c) => names.includes(c)) || null;
  const id = ID_COLS.find((c) => names.includes(c)) || names[0];
  const numeric = res.numeric || names.filter((c) => Array.isArray(cat[c]) && cat[c].some((v) => typeof v === "number"));
  const classes = res.classes || (cls ? [...new Set(cat[cls])].filter((c) => c !== null).sort() : []);
  return { cls, id, numeric, names, classes };
}

async function loadCatalog() {
  const q = new URLSearchParams({
    cls: $("cat-class").value, min_prob: $("cat-min-prob").value || "0", min_det: $("cat-min-det").value || "0",
  });
  const res = await apiGet(`/api/catalog?${q}`);
  const first = !state.catalogCols;
  const cols = catalogColumns(res);
  state.catalog = res.columns || res;
  state.catalogCols = cols;
  if (first) {
    if (cols.classes.length) {
      for (const c of cols.classes) {
        const o = document.createElement("option");
        o.value = c;
        o.textContent = c;
        $("cat-class").append(o);
      }
    }
    const skip = new Set(["ra", "dec", "obsid", "region_id", "cluster", "n_det", "p_class"]);
    const preferred = ["hr_hm", "hr_ms", "hard_hm", "hard_ms"].filter((c) => cols.numeric.includes(c));
    const axes = [...preferred, ...cols.numeric.filter((c) => !skip.has(c) && !preferred.includes(c))];
    for (const [sel, pick] of [["cat-x", 0], ["cat-y", 1]]) {
      for (const c of cols.numeric) {
        const o = document.createElement("option");
        o.value = c;
        o.textContent = c;
        $(sel).append(o);
      }
      if (axes.length > pick) $(sel).value = axes[pick];
    }
  }
  renderCatalog();
}

function renderCatalog() {
  const cat = state.catalog;
  const cols = state.catalogCols;
  const n = cat[cols.id] ? cat[cols.id].length : 0;
  $("cat-count").textContent = `${n} sources`;
  const xName = $("cat-x").value;
  const yName = $("cat-y").value;
  const groups = new Map();
  for (let i = 0; i < n; i++) {
    const g = cols.cls ? cat[cols.cls][i] : "all";
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(i);
  }
  const traces = [...groups.entries()].sort().map(([g, idx], k) => ({
    type: "scattergl", mode: "markers", name: `${g} (${idx.length})`,
    x: idx.map((i) => cat[xName] ? cat[xName][i] : null), y: idx.map((i) => cat[yName] ? cat[yName][i] : null),
    text: idx.map((i) => String(cat[cols.id][i])), hovertemplate: "%{text}<extra></extra>",
    marker: { size: 5, color: PALETTE[k % PALETTE.length], opacity: 0.8 },
  }));
  Plotly.react($("cat-plot"), traces, {
    margin: { l: 55, r: 10, t: 30, b: 45 }, title: { text: "catalogue coloured by class", font: { size: 13 } },
    xaxis: { title: { text: xName } }, yaxis: { title: { text: yName } }, hovermode: "closest",
  }, PLOT_CONFIG);
  const thead = $("cat-table").querySelector("thead");
  thead.replaceChildren();
  const hr = document.createElement("tr");
  for (const c of cols.names) {
    const th = document.createElement("th");
    th.textContent = c;
    hr.append(th);
  }
  thead.append(hr);
  const rows = [];
  for (let i = 0; i < Math.min(n, 300); i++) {
    const r = {};
    for (const c of cols.names) r[c] = cat[c][i];
    rows.push(r);
  }
  fillRows("cat-table", rows, cols.names, (r) => {
    if (r.obsreg_id && state.indexOf.has(r.obsreg_id)) openSource(r.obsreg_id).catch(reportError);
  });
}

/* ---------- export ---------- */
async function exportFile(what) {
  const format = $("export-format").value;
  const body = { what, format };
  if (what === "selection") {
    if (state.selected.length === 0) {
      $("export-status").textContent = "nothing selected: select points in the embedding (box or lasso) first";
      return;
    }
    body.ids = state.selected;
  }
  $("export-status").textContent = "exporting\u2026";
  const resp = await apiPost("/api/export", body);
  const blob = await resp.blob();
  const cd = resp.headers.get("Content-Disposition") || "";
  const m = /filename="?([^";]+)"?/.exec(cd);
  const name = m ? m[1] : `serendip-${what}.${format}`;
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  $("export-status").textContent = `downloaded ${name} (${blob.size} bytes)`;
}

/* ---------- start ---------- */
function wireControls() {
  for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => showPane(tab.dataset.pane));
  $("colour-by").addEventListener("change", recolour);
  $("show-known").addEventListener("change", () => Plotly.restyle($("embed-plot"), { visible: $("show-known").checked }, [1]));
  $("clear-selection").addEventListener("click", () => {
    Plotly.update($("embed-plot"), { selectedpoints: [null] }, { selections: [] });
    setSelection([]);
  });
  $("clear-highlight").addEventListener("click", () => highlight([]));
  $("find-analogs").addEventListener("click", () => state.sourceId && findAnalogs(state.sourceId).catch(reportError));
  $("review-order").addEventListener("change", () => loadCandidates().catch(reportError));
  $("rerank").addEventListener("click", () => rerank().catch(reportError));
  $("cat-apply").addEventListener("click", () => loadCatalog().catch(reportError));
  $("cat-x").addEventListener("change", renderCatalog);
  $("cat-y").addEventListener("change", renderCatalog);
  $("export-selection").addEventListener("click", () => exportFile("selection").catch(reportError));
  $("export-labels").addEventListener("click", () => exportFile("labels").catch(reportError));
  document.addEventListener("keydown", onKey);
}

async function main() {
  const T = window.serendipTiming;
  T.dom_ready = performance.now();
  wireControls();
  document.body.dataset.pane = "embedding";
  setStatus("loading points\u2026");
  const metaResp = await EARLY.meta;
  if (!metaResp.ok) throw await apiError(metaResp);
  const metaP = metaResp.json();
  const pointsResp = await EARLY.points;
  if (!pointsResp.ok) throw await apiError(pointsResp);
  T.points_headers = performance.now();
  const text = await pointsResp.text();
  T.points_body = performance.now();
  state.points = JSON.parse(text);
  T.points_parsed = performance.now();
  T.points_bytes = text.length;
  state.meta = await metaP;
  $("run-name").textContent = `${state.meta.run} \u00b7 ${state.meta.n_sources} sources \u00b7 ${state.meta.kind}`;
  document.querySelector('[data-pane="catalog"]').hidden = !(state.meta.kind === "classification" || state.meta.kind === "both");
  renderLabelButtons();
  await renderEmbedding();
  T.plot_done = performance.now();
  // Wait for two animation frames so the WebGL canvas has been painted.
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  T.ready = performance.now();
  const plotlyEntry = performance.getEntriesByType("resource").find((e) => e.name.endsWith("/static/plotly.min.js"));
  if (plotlyEntry) T.plotly_fetched = plotlyEntry.responseEnd;
  T.n_points = state.points.obsreg_id.length;
  T.renderer = SCATTER_TYPE;
  document.body.dataset.ready = "1";
  setStatus(`ready: ${T.n_points.toLocaleString()} points in ${(T.ready / 1000).toFixed(2)} s`);
  loadLabels().catch(reportError);
}

function start() {
  main().catch((err) => {
    reportError(err);
    document.body.dataset.ready = "error";
  });
}

Object.assign(window.serendip, { openSource, setSelection, highlight, findAnalogs, showPane, rerank });

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
