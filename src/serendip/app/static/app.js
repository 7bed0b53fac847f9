/* serendip explore: the browser side.  Plain JavaScript + Plotly (served by the backend), no build step.
 *
 * Views: embedding (scattergl of every source), source (E-t map, light curve + hardness, tables,
 * neighbours), review (keyboard labelling, re-rank curve), catalogue (classification results), export.
 * Loading in two steps, so the embedding is on screen before Plotly (4.8 MB) is even parsed:
 * document.body.dataset.shown = "1" once a canvas drawing of the embedding is on screen (from the
 * binary /api/xy: x, y, cluster, score as float32; clicking a point opens it); Plotly is then
 * loaded and document.body.dataset.ready = "1" once the interactive (WebGL) embedding has replaced
 * the drawing. window.serendipTiming holds the load-time breakdown (ms since navigation start) used
 * by benchmarks/bench_explore.py.
 */
"use strict";

// 20 well-separated colours first (Kelly's / Glasbey's), then generated ones (golden-angle hue
// steps at three lightness levels), so no two categories share a colour however many there are.
const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
  "#bcbd22", "#000080", "#f0a0ff", "#005c31", "#ff0010", "#5ef1f2", "#993f00", "#ffa405",
  "#740aff", "#00998f", "#808000", "#4c005c",
];
function categoryColour(i) {
  if (i < PALETTE.length) return PALETTE[i];
  const k = i - PALETTE.length;
  const hue = (k * 137.508) % 360;
  const light = [42, 58, 30][Math.floor(k / 7) % 3];
  return `hsl(${hue.toFixed(1)}, ${k % 2 ? 70 : 90}%, ${light}%)`;
}
const NOISE_COLOUR = "#bbbbbb";
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
  notes: new Map(), // obsreg_id -> note (saved on its own, with or without a label)
  counts: null, // {n_total, n_labelled, n_unlabelled} of the review queue
  cands: [],
  pos: 0,
  catalog: null,
  catalogCols: null,
};
window.serendip = { state }; // filled with the view functions below, for tests and the console
window.serendipTiming = { start: performance.now() };
// Start both requests now (app.js loads before plotly.min.js), so the transfer overlaps Plotly's parse.
// /api/xy alone first; the full columns and Plotly only once the embedding is drawn, so that
// nothing (transfer, decompression, script compilation) competes with the first drawing.
const EARLY = { xy: fetch("/api/xy") };
// Plotly, loaded after the first drawing of the embedding.
let plotlyLoading = null;
function loadPlotly() {
  if (!plotlyLoading) {
    plotlyLoading = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = "/static/plotly.min.js";
      s.onload = () => resolve(window.Plotly);
      s.onerror = () => reject(new Error("could not load /static/plotly.min.js"));
      document.head.append(s);
    });
  }
  return plotlyLoading;
}

/* ---------- small helpers ---------- */
const $ = (id) => document.getElementById(id);

function fmt(v) {
  // Numbers to 6 significant digits (integers and large values in full: no lost seconds).
  if (v === null || v === undefined) return "\u2014";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v)) return String(v);
    if (Math.abs(v) >= 1e5) return v.toFixed(3);
    return String(Number(v.toPrecision(6)));
  }
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

const ENERGY_EV = /^(energy|energy_mean|energy_median|energy_q25|energy_q75)$/;
const TIME_COLUMNS = new Set(["tstart", "tstop", "time"]);

function addSeconds(iso, s) {
  const d = new Date(Date.parse(iso) + s * 1000);
  return Number.isNaN(d.getTime()) ? null : `${d.toISOString().slice(0, 19)}Z`;
}

function fmtValue(key, v, ctx = {}) {
  // A value with its unit: energies in keV, mission times with their ISO date (UTC).
  if (typeof v !== "number" || !Number.isFinite(v)) return fmt(v);
  const units = (state.meta && state.meta.units) || {};
  const base = key.replace(/^(feat_|true_)/, "");
  if (ENERGY_EV.test(base)) return `${(v / 1000).toFixed(4)} keV`;
  if (TIME_COLUMNS.has(base)) {
    const tz = ctx.timeZero;
    const iso = tz && tz.iso ? addSeconds(tz.iso, v - tz.mission_s) : null;
    return `${v.toFixed(3)} s mission time${iso ? ` (${iso})` : ""}`;
  }
  if (base === "burst_sig" || base === "gap_sig" || base === "burst_significance") {
    return `${fmt(v)} (scan statistic, not a probability; see the significance rows)`;
  }
  const u = units[base];
  return u ? `${fmt(v)} ${u}` : fmt(v);
}

function pText(p) {
  // A probability as short text.
  if (p === null || p === undefined || !Number.isFinite(p)) return "\u2014";
  return `${Number(p.toPrecision(2))}`;
}

function fapLine(what, s) {
  // One calibrated term: empirical false-alarm probability, its 68% interval and sigma.
  const floor = s.at_floor ? "\u2264 " : "";
  let t = `${what}: false-alarm probability ${floor}${pText(s.fap)} (68%: ${pText(s.fap_lo)}\u2013${pText(s.fap_hi)}), ${fmt(s.sigma)}\u03c3, empirical (time-scrambled null)`;
  if (s.at_floor && Number.isFinite(s.sigma_tail)) {
    t += `; beyond the scrambles' reach, tail extrapolation ${pText(s.fap_tail)} (${fmt(s.sigma_tail)}\u03c3)`;
  }
  return t;
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

function fillKv(tableId, obj, ctx = {}) {
  const tbody = $(tableId).querySelector("tbody");
  tbody.replaceChildren();
  const notes = (state.meta && state.meta.unit_notes) || {};
  for (const [k, v] of Object.entries(obj || {})) {
    const tr = document.createElement("tr");
    const a = document.createElement("td");
    const b = document.createElement("td");
    a.textContent = k;
    if (notes[k]) a.title = notes[k];
    b.textContent = fmtValue(k, v, ctx);
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
  if (name !== "source" && window.location.pathname.startsWith("/source/")) window.history.pushState({}, "", `/${window.location.search}`);
  if (name === "source" && state.sourceId) setSourceUrl(state.sourceId);
  for (const gd of document.querySelectorAll(`#pane-${name} .js-plotly-plot`)) Plotly.Plots.resize(gd);
  if (name === "catalog" && !state.catalog) loadCatalog().catch(reportError);
  if (name === "table") renderTable();
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
  const truth = new Set((state.meta && state.meta.truth_columns) || []);
  // truth columns (the simulation's classes) only when asked for: they bias a labeller
  return opts.filter((o) => Array.isArray(state.points[o.name]) && (!truth.has(o.name) || showTruth()));
}

function isNoise(name, c) {
  return name === "cluster" && (c === 0 || c === "0" || c === -1 || c === "-1");
}

function categoryName(name, c) {
  return isNoise(name, c) ? `noise (${c})` : fmt(c);
}

function categoricalColours(values, name) {
  const counts = new Map();
  for (const v of values) if (v !== null && v !== undefined) counts.set(v, (counts.get(v) || 0) + 1);
  const cats = [...counts.keys()].sort((a, b) => counts.get(b) - counts.get(a));
  const colourOf = new Map();
  let i = 0;
  for (const c of cats) {
    // Noise is grey: label 0 in serendip's cluster tables (serendip.cluster: 0 = noise,
    // 1..K = clusters), -1 in raw DBSCAN/HDBSCAN labels.
    colourOf.set(c, isNoise(name, c) ? NOISE_COLOUR : categoryColour(i++));
  }
  const colours = values.map((v) => (v === null || v === undefined ? MISSING_COLOUR : colourOf.get(v)));
  return { colours, cats, counts, colourOf };
}

function markerSize(n = state.points.x.length) {
  // Smaller, more transparent markers as the embedding fills up.
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
    const { colours, cats, counts, colourOf } = categoricalColours(values, name);
    const title = document.createElement("h3");
    title.textContent = name;
    legend.append(title);
    for (const c of cats.slice(0, 60)) {
      const row = document.createElement("div");
      row.className = "legend-row";
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = colourOf.get(c);
      const label = document.createElement("span");
      label.textContent = `${categoryName(name, c)} (${counts.get(c)})`;
      row.append(sw, label);
      legend.append(row);
    }
    if (cats.length > 60) legend.append(`\u2026 ${cats.length - 60} more`);
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

// Plotly's Viridis at 9 even stops (the preview's score colours; Plotly draws the exact scale after).
const VIRIDIS = ["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725"];
const PREVIEW_MARGIN = { l: 40, r: 10, t: 30, b: 30 }; // the Plotly layout's margins

function packedColours(names, opacity) {
  // CSS colours -> RGBA pixels (little-endian uint32), blended with the white background.
  const probe = document.createElement("canvas").getContext("2d");
  return names.map((c) => {
    probe.fillStyle = "#000000";
    probe.fillStyle = c; // the canvas normalises any CSS colour to #rrggbb
    const h = probe.fillStyle;
    const [r, g, b] = [1, 3, 5].map((k) => Math.round(255 + (parseInt(h.slice(k, k + 2), 16) - 255) * opacity));
    return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
  });
}

function previewColourIndex(cluster, score) {
  // The colouring Plotly will use by default (defaultColour): clusters when they split the
  // sources, else the score in 64 Viridis steps. Returns {index (n,), names (CSS colours)}.
  const n = cluster.length;
  const counts = new Map();
  for (let i = 0; i < n; i++) counts.set(cluster[i], (counts.get(cluster[i]) || 0) + 1);
  const index = new Uint16Array(n);
  if (counts.size > 1 && Math.max(...counts.values()) < 0.9 * n) {
    const cats = [...counts.keys()].sort((a, b) => counts.get(b) - counts.get(a));
    const names = [];
    const slot = new Map();
    let k = 0;
    for (const c of cats) {
      slot.set(c, names.length);
      names.push(Number.isNaN(c) ? MISSING_COLOUR : isNoise("cluster", c) ? NOISE_COLOUR : categoryColour(k++));
    }
    for (let i = 0; i < n; i++) index[i] = slot.get(cluster[i]);
    return { index, names };
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) if (Number.isFinite(score[i])) { lo = Math.min(lo, score[i]); hi = Math.max(hi, score[i]); }
  const names = [];
  for (let j = 0; j < 64; j++) names.push(`rgb(${viridisRgb(j / 63).join(",")})`);
  names.push(MISSING_COLOUR);
  for (let i = 0; i < n; i++) {
    const v = score[i];
    index[i] = Number.isFinite(v) ? Math.round(((v - lo) / (hi - lo || 1)) * 63) : 64;
  }
  return { index, names };
}

function drawPreview(buf, n) {
  // The embedding drawn on a 2-D canvas from /api/xy (four float32 columns of n values):
  // square markers written straight into the pixels (milliseconds at 100,000 points).
  const x = new Float32Array(buf, 0, n);
  const y = new Float32Array(buf, 4 * n, n);
  const cluster = new Float32Array(buf, 8 * n, n);
  const score = new Float32Array(buf, 12 * n, n);
  const box = $("embed-plot");
  const canvas = document.createElement("canvas");
  canvas.id = "embed-preview";
  canvas.dataset.testid = "embed-preview";
  const w = box.clientWidth;
  const h = box.clientHeight;
  const dpr = window.devicePixelRatio || 1;
  const W = Math.round(w * dpr);
  const H = Math.round(h * dpr);
  canvas.width = W;
  canvas.height = H;
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  box.append(canvas);
  let x0 = Infinity; let x1 = -Infinity; let y0 = Infinity; let y1 = -Infinity;
  for (let i = 0; i < n; i++) {
    if (x[i] < x0) x0 = x[i];
    if (x[i] > x1) x1 = x[i];
    if (y[i] < y0) y0 = y[i];
    if (y[i] > y1) y1 = y[i];
  }
  const padX = 0.04 * (x1 - x0 || 1);
  const padY = 0.04 * (y1 - y0 || 1);
  x0 -= padX; x1 += padX; y0 -= padY; y1 += padY;
  const m = PREVIEW_MARGIN;
  const pw = w - m.l - m.r;
  const ph = h - m.t - m.b;
  const { size, opacity } = markerSize(n);
  const { index, names } = previewColourIndex(cluster, score);
  const pixel = packedColours(names, opacity);
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(W, H);
  const px32 = new Uint32Array(img.data.buffer);
  px32.fill(0xffffffff);
  const s = Math.max(1, Math.round(size * dpr));
  const half = Math.floor(s / 2);
  const px = new Float32Array(n);
  const py = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    px[i] = m.l + ((x[i] - x0) / (x1 - x0)) * pw;
    py[i] = m.t + ((y1 - y[i]) / (y1 - y0)) * ph;
    const cx = Math.round(px[i] * dpr) - half;
    const cy = Math.round(py[i] * dpr) - half;
    const colour = pixel[index[i]];
    for (let dy = 0; dy < s; dy++) {
      const row = cy + dy;
      if (row < 0 || row >= H) continue;
      for (let dx = 0; dx < s; dx++) {
        const col = cx + dx;
        if (col >= 0 && col < W) px32[row * W + col] = colour;
      }
    }
  }
  ctx.putImageData(img, 0, 0);
  ctx.scale(dpr, dpr);
  ctx.font = "13px system-ui, sans-serif";
  ctx.fillStyle = "#444";
  ctx.textAlign = "center";
  ctx.fillText(`${n.toLocaleString()} sources`, w / 2, 18);
  ctx.strokeStyle = "#ddd";
  ctx.strokeRect(m.l, m.t, pw, ph);
  canvas.addEventListener("click", (ev) => {
    // the nearest point within 8 px opens (once the ids have arrived)
    if (!state.points) return;
    const r = canvas.getBoundingClientRect();
    const cx = ev.clientX - r.left;
    const cy = ev.clientY - r.top;
    let best = -1;
    let bestD = 64;
    for (let i = 0; i < n; i++) {
      const d = (px[i] - cx) ** 2 + (py[i] - cy) ** 2;
      if (d < bestD) { bestD = d; best = i; }
    }
    if (best >= 0) openSource(state.points.obsreg_id[best]).catch(reportError);
  });
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
  fillColourSelect(defaultColour(colourOptions()));
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
  const preview = $("embed-preview");
  if (preview) preview.remove();
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

function fillColourSelect(value) {
  const sel = $("colour-by");
  sel.replaceChildren();
  const options = colourOptions();
  for (const o of options) {
    const opt = document.createElement("option");
    opt.value = o.name;
    opt.textContent = `${o.name} (${o.type})`;
    sel.append(opt);
  }
  sel.value = options.some((o) => o.name === value) ? value : defaultColour(options);
}

function renderColourChoices() {
  if (!state.points) return;
  const before = $("colour-by").value;
  fillColourSelect(before);
  if ($("colour-by").value !== before) recolour();
}

/* ---------- search: id, name or position ---------- */
async function runSearch() {
  const q = $("search-q").value.trim();
  const box = $("search-results");
  box.replaceChildren();
  if (!q) {
    box.hidden = true;
    return;
  }
  const radius = $("search-radius").value || "10";
  let res;
  try {
    res = await apiGet(`/api/search?q=${encodeURIComponent(q)}&radius_arcsec=${encodeURIComponent(radius)}`);
  } catch (err) {
    box.hidden = false;
    box.textContent = String(err.message || err);
    return;
  }
  box.hidden = false;
  document.body.dataset.searchHits = String(res.rows.length);
  if (res.rows.length === 0) {
    box.textContent = res.kind === "position" ? `no source within ${radius}\u2033 of ${q}` : `no source matches ${q}`;
    return;
  }
  if (res.rows.length === 1 && res.kind === "id") {
    box.hidden = true;
    await openSource(res.rows[0].obsreg_id);
    return;
  }
  for (const r of res.rows) {
    const d = document.createElement("div");
    d.dataset.id = r.obsreg_id;
    d.dataset.testid = "search-hit";
    d.textContent = `${r.obsreg_id}${r.name ? ` ${r.name}` : ""} \u00b7 rank ${r.rank}${r.sep_arcsec !== undefined ? ` \u00b7 ${r.sep_arcsec.toFixed(2)}\u2033` : ""}`;
    d.addEventListener("click", () => {
      box.hidden = true;
      openSource(r.obsreg_id).catch(reportError);
    });
    box.append(d);
  }
}

/* ---------- candidate table: sortable, filterable (client side, from the points) ---------- */
const TABLE_MAX_ROWS = 300;
const tableState = { sortKey: "rank", sortDir: 1 };

function tableColumns() {
  const P = state.points;
  const cols = ["obsreg_id", "rank", "score", "cluster", "known_type", "ra", "dec", "n_events", "rate", "burst_sig", "fap_empirical", "sigma_empirical", "hard_hm"];
  return cols.filter((c) => Array.isArray(P[c]));
}

function renderTable() {
  const P = state.points;
  if (!P) return;
  const cols = tableColumns();
  const text = $("tbl-filter").value.trim().toLowerCase();
  const minScore = Number($("tbl-min-score").value) || 0;
  const lab = $("tbl-labelled").value;
  const n = P.obsreg_id.length;
  const keep = [];
  for (let i = 0; i < n; i++) {
    if (P.score && !(P.score[i] >= minScore)) continue;
    const id = P.obsreg_id[i];
    if (lab === "labelled" && !state.labels.has(id)) continue;
    if (lab === "unlabelled" && state.labels.has(id)) continue;
    if (text) {
      const hay = `${id} ${P.known_type ? P.known_type[i] || "" : ""} cluster ${P.cluster ? P.cluster[i] : ""}`.toLowerCase();
      if (!hay.includes(text)) continue;
    }
    keep.push(i);
  }
  const key = tableState.sortKey;
  const dir = tableState.sortDir;
  const col = P[key];
  keep.sort((a, b) => {
    const va = col[a];
    const vb = col[b];
    if (va === vb) return P.rank[a] - P.rank[b];
    if (va === null || va === undefined) return 1;
    if (vb === null || vb === undefined) return -1;
    return (va < vb ? -1 : 1) * dir;
  });
  $("tbl-count").textContent = `${keep.length.toLocaleString()} of ${n.toLocaleString()} sources match${keep.length > TABLE_MAX_ROWS ? ` (first ${TABLE_MAX_ROWS} shown)` : ""}`;
  const thead = $("cand-table").querySelector("thead");
  thead.replaceChildren();
  const hr = document.createElement("tr");
  const units = state.meta.units || {};
  for (const c of [...cols, "label"]) {
    const th = document.createElement("th");
    th.textContent = `${c}${units[c] ? ` (${units[c]})` : ""}${c === key ? (dir > 0 ? " \u25b2" : " \u25bc") : ""}`;
    if (c !== "label") {
      th.className = "sortable";
      th.dataset.col = c;
      th.addEventListener("click", () => {
        tableState.sortDir = tableState.sortKey === c ? -tableState.sortDir : (c === "rank" || c === "obsreg_id" ? 1 : -1);
        tableState.sortKey = c;
        renderTable();
      });
    }
    hr.append(th);
  }
  thead.append(hr);
  const rows = keep.slice(0, TABLE_MAX_ROWS).map((i) => {
    const r = {};
    for (const c of cols) r[c] = P[c][i];
    const l = state.labels.get(P.obsreg_id[i]);
    r.label = l ? l.label : "";
    return r;
  });
  fillRows("cand-table", rows, [...cols, "label"], (r) => openSource(r.obsreg_id).catch(reportError));
  document.body.dataset.tableRows = String(keep.length);
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

function emptyFigure(text) {
  return {
    data: [],
    layout: {
      margin: { l: 10, r: 10, t: 10, b: 10 }, xaxis: { visible: false }, yaxis: { visible: false },
      annotations: [{ text, showarrow: false, x: 0.5, y: 0.5, xref: "paper", yref: "paper" }],
    },
  };
}

function timeAxisTitle(tz) {
  // The time zero of every time axis, stated: t = 0 at the observation's start.
  if (!tz) return "time (s)";
  const when = tz.iso ? `${tz.iso}, ` : "";
  return `time since observation start (s); t = 0 at ${when}${tz.mission_s.toFixed(3)} s mission time${tz.mjdref ? ` (MJDREF ${tz.mjdref} TT)` : ""}`;
}

function etMapFigure(et, small, tz) {
  if (!et) return emptyFigure("no events for this source");
  const trace = {
    type: "heatmap", z: et.z, x: et.time_edges_s, y: et.energy_edges_kev, colorscale: "Viridis",
    showscale: !small, hovertemplate: "t %{x:.1f} s<br>E %{y:.3f} keV<br>%{z} counts<extra></extra>",
    colorbar: small ? undefined : { title: { text: "counts" }, thickness: 12 },
  };
  const layout = small
    ? { margin: { l: 25, r: 5, t: 5, b: 20 }, xaxis: { showticklabels: false }, yaxis: { tickfont: { size: 8 }, type: "log" } }
    : {
      margin: { l: 55, r: 10, t: 30, b: 45 }, title: { text: "E\u2013t map (whole observation)", font: { size: 13 } },
      xaxis: { title: { text: timeAxisTitle(tz), font: { size: 10 } } }, yaxis: { title: { text: "energy (keV)" }, type: "log" },
    };
  return { data: [trace], layout };
}

function rebinChoices(lc) {
  // Rebinning factors of the 256 fine bins; default: ~20 counts per bin, 8-128 bins.
  const n = lc.counts.length;
  const total = lc.counts.reduce((a, b) => a + b, 0);
  const out = [];
  for (let f = 1; f <= n; f *= 2) out.push(f);
  let def = 1;
  while (def < n / 8 && (n / def > 128 || total / (n / def) < 20)) def *= 2;
  return { factors: out, def };
}

function rebinned(lc, factor) {
  // Sum ``factor`` neighbouring fine bins: rate = counts / good time, Poisson errors, hardness.
  const n = Math.floor(lc.counts.length / factor);
  const t = [], w = [], rate = [], err = [], hr = [];
  for (let i = 0; i < n; i++) {
    let c = 0, s = 0, h = 0, g = 0;
    for (let j = i * factor; j < (i + 1) * factor; j++) {
      c += lc.counts[j]; s += lc.soft[j]; h += lc.hard[j]; g += lc.good_s[j];
    }
    const lo = lc.edges_s[i * factor];
    const hi = lc.edges_s[(i + 1) * factor];
    t.push((lo + hi) / 2);
    w.push(hi - lo);
    rate.push(g > 0 ? c / g : null);
    err.push(g > 0 ? Math.sqrt(Math.max(c, 1)) / g : null);
    hr.push(s + h > 0 ? (h - s) / (h + s) : null);
  }
  return { t, w, rate, err, hr };
}

const BAND_COLOURS = { g: "#2ca02c", r: "#d62728", i: "#9467bd", z: "#8c564b", u: "#1f77b4", c: "#17becf", o: "#ff7f0e" };

function opticalFigure(v, small) {
  // A light-curve run: points per band with 1-sigma errors, upper limits as open triangles,
  // and (periodic objects) the curve folded on its period in a second panel.
  const folded = v.period_days != null;
  const data = [];
  Object.entries(v.bands).forEach(([band, b], k) => {
    const colour = BAND_COLOURS[band] || `hsl(${(k * 67) % 360},60%,45%)`;
    data.push({
      type: "scatter", mode: "markers", name: band, x: b.t, y: b.y, xaxis: "x", yaxis: "y",
      error_y: { type: "data", array: b.err, visible: true, thickness: 1 },
      marker: { size: small ? 3 : 5, color: colour },
      hovertemplate: `${band}: MJD %{x:.4f}<br>%{y:.4g}<extra></extra>`,
    });
    if (b.ul_t && b.ul_t.length) {
      data.push({
        type: "scatter", mode: "markers", name: `${band} upper limits`, x: b.ul_t, y: b.ul_y, xaxis: "x", yaxis: "y",
        marker: { symbol: "triangle-down-open", size: small ? 4 : 6, color: colour }, hovertemplate: `${band} limit %{y:.4g}<extra></extra>`,
      });
    }
    if (folded && b.phase) {
      data.push({
        type: "scatter", mode: "markers", name: `${band} folded`, showlegend: false,
        x: b.phase.concat(b.phase.map((p) => p + 1)), y: b.y.concat(b.y), xaxis: "x2", yaxis: "y2",
        error_y: { type: "data", array: b.err.concat(b.err), visible: true, thickness: 1 },
        marker: { size: small ? 2 : 4, color: colour },
      });
    }
  });
  const ytitle = v.value === "flux" ? `${v.flux_type} flux (${v.unit || "as given"})` : "magnitude";
  const yaxis = { title: small ? undefined : { text: ytitle }, autorange: v.value === "mag" ? "reversed" : true };
  const layout = {
    showlegend: !small, legend: { font: { size: 9 } },
    margin: small ? { l: 40, r: 5, t: 5, b: 30 } : { l: 55, r: 10, t: 30, b: 45 },
    title: small ? undefined : { text: `light curve per band${folded ? ` (right: folded, P = ${v.period_days.toPrecision(5)} d)` : ""}`, font: { size: 13 } },
    xaxis: { title: small ? undefined : { text: "MJD" }, domain: folded ? [0, 0.58] : [0, 1] },
    yaxis,
  };
  if (folded) {
    layout.xaxis2 = { title: small ? undefined : { text: "phase" }, domain: [0.66, 1], anchor: "y2" };
    layout.yaxis2 = { anchor: "x2", autorange: yaxis.autorange };
  }
  return { data, layout };
}

function lightcurveFigure(lc, small, opts = {}) {
  if (lc && lc.bands) return opticalFigure(lc, small);
  if (!lc || !lc.counts || lc.counts.length === 0 || lc.counts.every((c) => c === 0)) return emptyFigure("no light curve for this source");
  const factor = opts.factor || rebinChoices(lc).def;
  const b = rebinned(lc, factor);
  const binS = b.w[0] || 0;
  const rate = {
    type: "scatter", mode: "markers", name: "rate", x: b.t, y: b.rate,
    error_y: { type: "data", array: b.err, visible: true, thickness: 1 },
    error_x: { type: "constant", value: binS / 2, visible: true, thickness: 1, width: 0 },
    marker: { size: 4, color: "#1f77b4" }, xaxis: "x", yaxis: "y",
    hovertemplate: "t %{x:.1f} s<br>%{y:.4g} ct/s<extra></extra>",
  };
  const hr = {
    type: "scatter", mode: "markers+lines", name: "hardness", x: b.t, y: b.hr,
    marker: { size: 3, color: "#d62728" }, line: { width: 1 }, xaxis: "x", yaxis: "y2",
    hovertemplate: "t %{x:.1f} s<br>HR %{y:.3f}<extra></extra>",
  };
  const span = lc.edges_s[lc.edges_s.length - 1];
  const shapes = (lc.gtis_s || []).map(([lo, hi]) => ({
    type: "rect", xref: "x", yref: "paper", x0: lo, x1: hi, y0: 0, y1: 1,
    fillcolor: "#2ca02c", opacity: 0.08, line: { width: 0 }, layer: "below",
  }));
  const bands = `HR = (H\u2212S)/(H+S), S ${lc.soft_kev[0]}\u2013${lc.soft_kev[1]} keV, H ${lc.hard_kev[0]}\u2013${lc.hard_kev[1]} keV`;
  const layout = {
    showlegend: false, shapes,
    margin: small ? { l: 40, r: 5, t: 5, b: 30 } : { l: 55, r: 10, t: 30, b: 45 },
    title: small ? undefined : { text: `light curve, ${fmt(binS)} s bins${lc.gtis_s && lc.gtis_s.length ? " (shaded: GTIs)" : ""}`, font: { size: 13 } },
    xaxis: { title: small ? undefined : { text: timeAxisTitle(opts.timeZero), font: { size: 10 } }, anchor: "y2", range: [0, span] },
    yaxis: { domain: [0.38, 1], title: { text: "rate (ct/s)" }, type: opts.log ? "log" : "linear" },
    yaxis2: { domain: [0, 0.3], title: { text: "HR" }, zeroline: true, range: [-1.05, 1.05] },
    annotations: small ? [] : [{ text: bands, showarrow: false, xref: "paper", yref: "paper", x: 0, y: 0.33, xanchor: "left", font: { size: 9, color: "#666" } }],
  };
  return { data: [rate, hr], layout };
}

function spectrumFigure(sp, log) {
  if (!sp || sp.counts.every((c) => c === 0)) return emptyFigure("no events in 0.5\u20137 keV");
  const e = sp.edges_kev;
  const mid = e.slice(0, -1).map((lo, i) => Math.sqrt(lo * e[i + 1]));
  return {
    data: [{
      type: "scatter", mode: "markers", x: mid, y: sp.per_kev.map((v) => (log && v <= 0 ? null : v)),
      error_y: { type: "data", array: sp.per_kev_err, visible: true, thickness: 1 },
      marker: { size: 4, color: "#9467bd" }, hovertemplate: "%{x:.3f} keV<br>%{y:.4g} counts/keV<extra></extra>",
    }],
    layout: {
      margin: { l: 55, r: 10, t: 30, b: 45 }, showlegend: false,
      title: { text: `energy spectrum (counts/keV; ${sp.n_outside_band} events outside 0.5\u20137 keV)`, font: { size: 13 } },
      xaxis: { title: { text: "energy (keV)" }, type: "log" },
      yaxis: { title: { text: "counts / keV" }, type: log ? "log" : "linear" },
    },
  };
}

function imageFigure(img) {
  if (!img) return emptyFigure("no sky image: this run's events carry no x/y positions");
  const xc = img.x_edges.slice(0, -1).map((v, i) => (v + img.x_edges[i + 1]) / 2);
  const yc = img.y_edges.slice(0, -1).map((v, i) => (v + img.y_edges[i + 1]) / 2);
  return {
    data: [{ type: "heatmap", z: img.z, x: xc, y: yc, colorscale: "Viridis", colorbar: { title: { text: "counts" }, thickness: 12 } }],
    layout: {
      margin: { l: 55, r: 10, t: 30, b: 45 }, title: { text: "sky image of the events", font: { size: 13 } },
      xaxis: { title: { text: "sky x (pixel)" }, autorange: "reversed" }, yaxis: { title: { text: "sky y (pixel)" }, scaleanchor: "x" },
    },
  };
}

/* ---------- the source view drawn on canvases first (milliseconds), Plotly after ----------
 * drawQuick(el, fig) draws the same figure object ({data, layout}) that Plotly.react gets, on a
 * canvas laid over the plot's div: scatter traces (markers, lines, error bars), heatmaps (Viridis),
 * linear/log/reversed axes with domains and anchors, rectangles (GTIs), titles and annotations.
 * It is the view the user sees first; Plotly (hover, zoom, colour bars) replaces it panel by
 * panel right after, and the canvas is then hidden. */
function quickCanvasOf(el) {
  let c = el.parentElement.querySelector(`canvas.quick[data-for="${el.id}"]`);
  if (!c) {
    c = document.createElement("canvas");
    c.className = "quick";
    c.dataset.for = el.id;
    c.dataset.testid = `quick-${el.id}`;
    el.parentElement.append(c);
  }
  return c;
}

function hideQuick(el) {
  const c = el.parentElement.querySelector(`canvas.quick[data-for="${el.id}"]`);
  if (c) c.hidden = true;
}

function niceTicks(lo, hi, n = 5) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => span / s <= n) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function logTicks(lo, hi) {
  // lo, hi in log10 units: decades, with 2 and 5 when the range spans under three decades
  const out = [];
  const mult = hi - lo < 3 ? [1, 2, 5] : [1];
  for (let d = Math.floor(lo); d <= Math.ceil(hi); d++) {
    for (const m of mult) {
      const v = Math.log10(m) + d;
      if (v >= lo - 1e-9 && v <= hi + 1e-9) out.push(v);
    }
  }
  return out;
}

function tickText(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(0);
  return String(Number(v.toPrecision(4)));
}

function quickAxes(fig, w, h) {
  // Pixel mapping of every axis of the figure (Plotly's domain/anchor/range conventions).
  const L = fig.layout || {};
  const m = { l: 80, r: 80, t: 100, b: 80, ...(L.margin || {}) };
  const pw = Math.max(w - m.l - m.r, 10);
  const ph = Math.max(h - m.t - m.b, 10);
  const axes = {};
  for (const key of Object.keys(L).concat(["xaxis", "yaxis"])) {
    const mm = /^([xy])axis(\d*)$/.exec(key);
    if (!mm || axes[`${mm[1]}${mm[2]}`]) continue;
    axes[`${mm[1]}${mm[2]}`] = { dir: mm[1], spec: L[key] || {}, name: `${mm[1]}${mm[2]}` };
  }
  for (const ax of Object.values(axes)) {
    const s = ax.spec;
    ax.log = s.type === "log";
    const dom = s.domain || [0, 1];
    ax.p0 = ax.dir === "x" ? m.l + dom[0] * pw : m.t + (1 - dom[1]) * ph;
    ax.p1 = ax.dir === "x" ? m.l + dom[1] * pw : m.t + (1 - dom[0]) * ph;
    let lo = Infinity;
    let hi = -Infinity;
    const take = (v) => {
      if (v === null || v === undefined || !Number.isFinite(v) || (ax.log && v <= 0)) return;
      const u = ax.log ? Math.log10(v) : v;
      if (u < lo) lo = u;
      if (u > hi) hi = u;
    };
    let heat = false;
    for (const t of fig.data) {
      if ((t[`${ax.dir}axis`] || ax.dir) !== ax.name) continue;
      const vals = t[ax.dir] || [];
      if (t.type === "heatmap") {
        heat = true;
        for (const v of heatEdges(vals, ax.dir === "x" ? t.z[0].length : t.z.length, ax.log)) take(ax.log ? 10 ** v : v);
        continue;
      }
      const err = ax.dir === "y" && t.error_y && t.error_y.array;
      vals.forEach((v, i) => {
        take(v);
        if (err && v !== null && err[i] !== null && err[i] !== undefined) { take(v - err[i]); take(v + err[i]); }
      });
      if (ax.dir === "x" && t.error_x && t.error_x.type === "constant") {
        for (const v of vals) { take(v - t.error_x.value); take(v + t.error_x.value); }
      }
    }
    if (Array.isArray(s.range)) [lo, hi] = ax.log ? s.range.map(Math.log10) : s.range;
    if (!(hi >= lo)) { lo = 0; hi = 1; }
    if (hi === lo) { lo -= 0.5; hi += 0.5; }
    if (!Array.isArray(s.range) && !heat) { const pad = 0.05 * (hi - lo); lo -= pad; hi += pad; }
    ax.lo = lo;
    ax.hi = hi;
    ax.reversed = s.autorange === "reversed";
    ax.toPx = (v) => {
      if (v === null || v === undefined || !Number.isFinite(v) || (ax.log && v <= 0)) return NaN;
      let f = ((ax.log ? Math.log10(v) : v) - ax.lo) / (ax.hi - ax.lo);
      if (ax.reversed) f = 1 - f;
      return ax.dir === "x" ? ax.p0 + f * (ax.p1 - ax.p0) : ax.p1 - f * (ax.p1 - ax.p0);
    };
  }
  for (const ax of Object.values(axes)) {
    const other = ax.spec.anchor || (ax.dir === "x" ? "y" : "x");
    ax.cross = axes[other] || axes[ax.dir === "x" ? "y" : "x"];
  }
  return { axes, m, pw, ph };
}

function heatEdges(vals, n, log) {
  // Plotly heatmap coordinates: n + 1 values are edges, n values are centres (edges between)
  const f = log ? (v) => Math.log10(v) : (v) => v;
  if (!vals || vals.length === 0) return Array.from({ length: n + 1 }, (_, i) => i - 0.5);
  const u = vals.map(f);
  if (u.length === n + 1) return u;
  const out = [];
  for (let i = 0; i <= n; i++) {
    if (i === 0) out.push(u[0] - (n > 1 ? (u[1] - u[0]) / 2 : 0.5));
    else if (i === n) out.push(u[n - 1] + (n > 1 ? (u[n - 1] - u[n - 2]) / 2 : 0.5));
    else out.push((u[i - 1] + u[i]) / 2);
  }
  return out;
}

function drawQuick(el, fig) {
  const canvas = quickCanvasOf(el);
  const w = el.clientWidth;
  const h = el.clientHeight;
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  canvas.hidden = false;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, w, h);
  const L = fig.layout || {};
  if (fig.data.length === 0) {
    // an empty panel says why (emptyFigure): its text in the middle
    ctx.fillStyle = "#444";
    ctx.font = "12px system-ui, sans-serif";
    ctx.textAlign = "center";
    for (const a of L.annotations || []) ctx.fillText(a.text, w * a.x, h * (1 - a.y), w - 10);
    return;
  }
  const { axes, m, pw, ph } = quickAxes(fig, w, h);
  // shapes below the data (GTIs)
  for (const s of L.shapes || []) {
    const ax = axes[s.xref] || axes.x;
    if (s.type !== "rect" || !ax) continue;
    const x0 = ax.toPx(s.x0);
    const x1 = ax.toPx(s.x1);
    const y0 = m.t + (1 - s.y1) * ph;
    const y1 = m.t + (1 - s.y0) * ph;
    ctx.globalAlpha = s.opacity ?? 1;
    ctx.fillStyle = s.fillcolor || "#888";
    ctx.fillRect(Math.min(x0, x1), y0, Math.abs(x1 - x0), y1 - y0);
    ctx.globalAlpha = 1;
  }
  for (const t of fig.data) {
    const ax = axes[t.xaxis || "x"];
    const ay = axes[t.yaxis || "y"];
    if (!ax || !ay) continue;
    ctx.save();
    ctx.beginPath();
    ctx.rect(Math.min(ax.p0, ax.p1), Math.min(ay.p0, ay.p1), Math.abs(ax.p1 - ax.p0), Math.abs(ay.p1 - ay.p0));
    ctx.clip();
    if (t.type === "heatmap") {
      const rows = t.z.length;
      const cols = rows ? t.z[0].length : 0;
      const xe = heatEdges(t.x, cols, ax.log).map((u) => (ax.log ? 10 ** u : u)).map(ax.toPx);
      const ye = heatEdges(t.y, rows, ay.log).map((u) => (ay.log ? 10 ** u : u)).map(ay.toPx);
      let hi = -Infinity;
      let lo = Infinity;
      for (const r of t.z) for (const v of r) if (v !== null && Number.isFinite(v)) { if (v > hi) hi = v; if (v < lo) lo = v; }
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const v = t.z[r][c];
          if (v === null || !Number.isFinite(v)) continue;
          ctx.fillStyle = `rgb(${viridisRgb(hi > lo ? (v - lo) / (hi - lo) : 0).join(",")})`;
          const x0 = Math.min(xe[c], xe[c + 1]);
          const y0 = Math.min(ye[r], ye[r + 1]);
          ctx.fillRect(x0, y0, Math.abs(xe[c + 1] - xe[c]) + 0.5, Math.abs(ye[r + 1] - ye[r]) + 0.5);
        }
      }
    } else {
      const colour = (t.marker && t.marker.color) || "#1f77b4";
      const size = (t.marker && t.marker.size) || 6;
      const xs = (t.x || []).map(ax.toPx);
      const ys = (t.y || []).map(ay.toPx);
      ctx.strokeStyle = colour;
      ctx.fillStyle = colour;
      ctx.lineWidth = 1;
      const ey = t.error_y && t.error_y.visible !== false && t.error_y.array;
      const ex = t.error_x && t.error_x.visible !== false && t.error_x.type === "constant" ? t.error_x.value : 0;
      ctx.beginPath();
      for (let i = 0; i < xs.length; i++) {
        if (!Number.isFinite(xs[i]) || !Number.isFinite(ys[i])) continue;
        if (ey && ey[i] !== null && ey[i] !== undefined) {
          const v = t.y[i];
          const lo = ay.toPx(v - ey[i]);
          const hiPx = ay.toPx(v + ey[i]);
          ctx.moveTo(xs[i], Number.isFinite(lo) ? lo : ay.p1);
          ctx.lineTo(xs[i], hiPx);
        }
        if (ex) {
          ctx.moveTo(ax.toPx(t.x[i] - ex), ys[i]);
          ctx.lineTo(ax.toPx(t.x[i] + ex), ys[i]);
        }
      }
      ctx.stroke();
      if ((t.mode || "").includes("lines")) {
        ctx.beginPath();
        let pen = false;
        for (let i = 0; i < xs.length; i++) {
          if (!Number.isFinite(xs[i]) || !Number.isFinite(ys[i])) { pen = false; continue; }
          if (pen) ctx.lineTo(xs[i], ys[i]); else ctx.moveTo(xs[i], ys[i]);
          pen = true;
        }
        ctx.stroke();
      }
      const open = t.marker && String(t.marker.symbol || "").includes("open");
      const r = Math.max(size / 2, 1);
      for (let i = 0; i < xs.length; i++) {
        if (!Number.isFinite(xs[i]) || !Number.isFinite(ys[i])) continue;
        ctx.beginPath();
        ctx.arc(xs[i], ys[i], r, 0, 2 * Math.PI);
        if (open) ctx.stroke(); else ctx.fill();
      }
    }
    ctx.restore();
  }
  // axes: ticks, labels, titles
  ctx.strokeStyle = "#ccc";
  ctx.fillStyle = "#444";
  ctx.lineWidth = 1;
  for (const ax of Object.values(axes)) {
    if (!fig.data.some((t) => (t[`${ax.dir}axis`] || ax.dir) === ax.name)) continue;
    const s = ax.spec;
    const cross = ax.cross;
    const at = ax.dir === "x" ? Math.max(cross.p0, cross.p1) : Math.min(cross.p0, cross.p1);
    const ticks = ax.log ? logTicks(ax.lo, ax.hi) : niceTicks(ax.lo, ax.hi, ax.dir === "x" ? 6 : 4);
    ctx.font = `${(s.tickfont && s.tickfont.size) || 10}px system-ui, sans-serif`;
    ctx.beginPath();
    if (ax.dir === "x") { ctx.moveTo(ax.p0, at); ctx.lineTo(ax.p1, at); } else { ctx.moveTo(at, ax.p0); ctx.lineTo(at, ax.p1); }
    ctx.stroke();
    if (s.showticklabels !== false) {
      for (const u of ticks) {
        const v = ax.log ? 10 ** u : u;
        const p = ax.toPx(v);
        if (!Number.isFinite(p)) continue;
        if (ax.dir === "x") {
          ctx.textAlign = "center";
          ctx.fillText(tickText(v), p, at + 12);
          ctx.beginPath(); ctx.moveTo(p, at); ctx.lineTo(p, at + 3); ctx.stroke();
        } else {
          ctx.textAlign = "right";
          ctx.fillText(tickText(v), at - 4, p + 3);
          ctx.beginPath(); ctx.moveTo(at - 3, p); ctx.lineTo(at, p); ctx.stroke();
        }
      }
    }
    const title = s.title && s.title.text;
    if (title) {
      ctx.font = `${(s.title.font && s.title.font.size) || 11}px system-ui, sans-serif`;
      ctx.textAlign = "center";
      if (ax.dir === "x") ctx.fillText(title, (ax.p0 + ax.p1) / 2, at + 28, pw + m.l);
      else {
        ctx.save();
        ctx.translate(Math.max(at - 38, 10), (ax.p0 + ax.p1) / 2);
        ctx.rotate(-Math.PI / 2);
        ctx.fillText(title, 0, 0);
        ctx.restore();
      }
    }
  }
  if (L.title && L.title.text) {
    ctx.font = `${(L.title.font && L.title.font.size) || 13}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.fillStyle = "#222";
    ctx.fillText(L.title.text, w / 2, Math.min(18, m.t - 6), w - 10);
  }
  ctx.font = "9px system-ui, sans-serif";
  for (const a of L.annotations || []) {
    if (a.xref !== "paper" || a.yref !== "paper") continue;
    ctx.fillStyle = (a.font && a.font.color) || "#444";
    ctx.textAlign = a.xanchor === "left" ? "left" : "center";
    ctx.fillText(a.text, m.l + a.x * pw, m.t + (1 - a.y) * ph);
  }
  if (L.showlegend) {
    ctx.textAlign = "left";
    let y = m.t + 10;
    for (const t of fig.data) {
      if (t.showlegend === false || !t.name || t.type === "heatmap") continue;
      ctx.fillStyle = (t.marker && t.marker.color) || "#444";
      ctx.fillText(`\u25cf ${t.name}`, m.l + pw - 70, y);
      y += 12;
    }
  }
}

function renderScoreTerms(src) {
  const box = $("score-terms");
  box.replaceChildren();
  for (const t of src.score_terms || []) {
    const row = document.createElement("div");
    row.className = `term-row${t.decides ? " decides" : ""}`;
    row.title = t.meaning;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = t.term;
    const bar = document.createElement("span");
    bar.className = "term-bar";
    const fill = document.createElement("span");
    fill.style.width = `${Math.max(0, Math.min(1, t.value || 0)) * 100}%`;
    bar.append(fill);
    const val = document.createElement("span");
    val.textContent = `${fmt(t.value)}${t.decides ? " \u2190 score" : ""}`;
    row.append(name, bar, val);
    box.append(row);
  }
  const sig = src.significance || {};
  const lines = [];
  if (sig.calibrated) {
    lines.push(fapLine(`all terms (best: ${sig.all.best_term})`, sig.all));
    for (const [what, s] of Object.entries(sig.terms || {})) lines.push(fapLine(what, s));
  } else if (sig.why) {
    lines.push(`no probability shown: ${sig.why}`);
  }
  for (const text of lines) {
    const p = document.createElement("div");
    p.className = "term-row";
    p.textContent = text;
    box.append(p);
  }
  const reason = document.createElement("div");
  reason.className = "term-row hint";
  reason.textContent = "score = the largest term (serendip.catalog.candidates); hover a term for its definition";
  box.append(reason);
}

function renderPosition(src) {
  const pos = src.position;
  const links = $("source-links");
  links.replaceChildren();
  if (!pos) {
    $("source-pos").textContent = "no sky position in this run";
    return;
  }
  $("source-pos").textContent = `RA ${pos.ra.toFixed(6)}\u00b0 Dec ${pos.dec >= 0 ? "+" : ""}${pos.dec.toFixed(6)}\u00b0 (${pos.ra_hms} ${pos.dec_dms}, ${pos.frame})`;
  for (const [name, url] of Object.entries(pos.links || {})) {
    const a = document.createElement("a");
    a.href = url;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.textContent = name;
    a.dataset.testid = `link-${name.split(" ")[0].toLowerCase()}`;
    links.append(a);
  }
}

function renderEventLinks(id) {
  const box = $("source-events");
  box.replaceChildren();
  if (!state.meta.has_events) return;
  box.append("events: ");
  for (const f of ["fits", "csv"]) {
    const a = document.createElement("a");
    a.href = `/api/events/${encodeURIComponent(id)}?format=${f}`;
    a.download = `${id}-events.${f}`;
    a.textContent = f.toUpperCase();
    a.dataset.testid = `events-${f}`;
    a.style.marginRight = "0.5em";
    box.append(a);
  }
}

function lightcurveOf(src) {
  const factor = Number($("lc-rebin").value) || undefined;
  return lightcurveFigure(src.lightcurve, false, { factor, log: $("lc-log").checked, timeZero: src.time_zero });
}

async function drawLightcurve() {
  // a rebinning or log-axis change: straight to Plotly (the canvas drawing, if any, hidden)
  const src = state.sourceId && state.sourceCache.get(state.sourceId);
  if (!src) return;
  const lc = lightcurveOf(src);
  await loadPlotly();
  await Plotly.react($("lightcurve"), lc.data, lc.layout, PLOT_CONFIG);
  hideQuick($("lightcurve"));
}

function fillRebin(lc) {
  const sel = $("lc-rebin");
  sel.replaceChildren();
  if (!lc || !lc.counts) return;
  const { factors, def } = rebinChoices(lc);
  const span = lc.edges_s[lc.edges_s.length - 1];
  for (const f of factors) {
    const o = document.createElement("option");
    o.value = String(f);
    const nb = lc.counts.length / f;
    o.textContent = `${nb} \u00d7 ${fmt(span / nb)} s`;
    sel.append(o);
  }
  sel.value = String(def);
}

function showTruth() {
  return $("show-truth").checked;
}

/* ---------- deep links: /source/ID opens that source (and survives a reload) ---------- */
function sourceIdFromPath() {
  const m = /^\/source\/(.+)$/.exec(window.location.pathname);
  return m ? decodeURIComponent(m[1]) : null;
}

function setSourceUrl(id) {
  const path = `/source/${encodeURIComponent(id)}`;
  if (window.location.pathname !== path) window.history.pushState({ source: id }, "", path + window.location.search);
}

const nextFrame = () => new Promise((r) => requestAnimationFrame(r));
let sourceGeneration = 0;

async function openSource(id, { switchPane = true, pushUrl = true } = {}) {
  // Two steps, like the page: (1) the four panels drawn on canvases from the same figure
  // objects (document.body.dataset.sourceShown = id, the source on screen), then (2) each
  // panel handed to Plotly (hover, zoom, colour bars), one per frame, and the neighbours'
  // E-t thumbnails fetched (dataset.sourceReady = id, then dataset.thumbs = id). A later
  // openSource supersedes an unfinished one.
  const gen = ++sourceGeneration;
  if (switchPane) showPane("source");
  setStatus(`loading ${id}\u2026`);
  $("source-id").textContent = id;
  document.title = `${id} \u00b7 serendip explore`;
  if (pushUrl) setSourceUrl(id);
  const t0 = performance.now();
  const src = await getSource(id);
  if (gen !== sourceGeneration) return;
  const t1 = performance.now();
  state.sourceId = id;
  $("find-analogs").disabled = false;
  const lab = state.labels.get(id);
  const note = state.notes.get(id);
  $("source-label").textContent = lab ? `label: ${lab.label}` : "";
  if (note) $("source-label").textContent += ` note: ${note}`;
  renderPosition(src);
  renderEventLinks(id);
  const tz = src.time_zero;
  $("time-zero").textContent = tz
    ? `Time axes: seconds since the observation start, t = 0 at ${tz.iso || "?"} (${tz.mission_s.toFixed(3)} s mission time${tz.mjdref ? `, MJDREF ${tz.mjdref} TT` : ""}${tz.mjd ? `, MJD ${tz.mjd.toFixed(6)}` : ""}); observation length ${fmt(src.t_span_s)} s.`
    : "";
  fillRebin(src.lightcurve);
  const panels = [
    [$("lightcurve"), lightcurveOf(src)],
    [$("et-map"), etMapFigure(src.et_map, false, tz)],
    [$("spectrum"), spectrumFigure(src.spectrum, $("spec-log").checked)],
    [$("sky-image"), imageFigure(src.image)],
  ];
  for (const [el, fig] of panels) drawQuick(el, fig);
  renderScoreTerms(src);
  fillKv("props-table", src.properties, { timeZero: tz });
  fillKv("features-table", src.features, { timeZero: tz });
  fillKv("truth-table", src.truth, { timeZero: tz });
  $("truth-box").hidden = !showTruth() || !src.truth || Object.keys(src.truth).length === 0;
  const minis = renderNeighbours(src.neighbours || []);
  const t2 = performance.now();
  await nextFrame(); // the frame that shows it
  const t3 = performance.now();
  // ms: fetching the source (0 when cached), drawing it, to the frame that shows it, and to
  // every panel interactive (for bench_explore.py)
  const timing = { fetch_ms: t1 - t0, draw_ms: t2 - t1, shown_ms: t3 - t0 };
  state.sourceTiming = timing;
  if (gen !== sourceGeneration) return;
  document.body.dataset.sourceShown = id;
  setStatus(`source ${id}`);
  await loadPlotly();
  for (const [el, fig] of panels) {
    if (gen !== sourceGeneration) return;
    await Plotly.react(el, fig.data, fig.layout, PLOT_CONFIG);
    hideQuick(el);
    await nextFrame();
  }
  if (gen !== sourceGeneration) return;
  timing.ready_ms = performance.now() - t0;
  document.body.dataset.sourceReady = id;
  await fetchThumbnails(minis);
  if (gen === sourceGeneration) document.body.dataset.thumbs = id;
}

function viridisRgb(f) {
  // Viridis at fraction f in [0, 1], linearly between the 9 stops of VIRIDIS.
  const x = Math.min(Math.max(f, 0), 1) * 8;
  const i = Math.min(Math.floor(x), 7);
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  const w = x - i;
  const ch = (h, k) => parseInt(h.slice(1 + 2 * k, 3 + 2 * k), 16);
  return [0, 1, 2].map((k) => Math.round(ch(a, k) * (1 - w) + ch(b, k) * w));
}

function drawHeatThumb(el, z) {
  // A counts map as a small canvas image (Viridis, linear, low energies at the bottom): no Plotly.
  const rows = z.length;
  const cols = rows ? z[0].length : 0;
  const canvas = document.createElement("canvas");
  canvas.width = cols;
  canvas.height = rows;
  canvas.className = "thumb";
  canvas.dataset.testid = "neighbour-thumb";
  let hi = 0;
  for (const r of z) for (const v of r) if (v > hi) hi = v;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(cols, rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const [R, G, B] = viridisRgb(hi ? z[r][c] / hi : 0);
      const o = 4 * ((rows - 1 - r) * cols + c);
      img.data[o] = R; img.data[o + 1] = G; img.data[o + 2] = B; img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
  el.replaceChildren(canvas);
}

function renderNeighbours(rows) {
  const box = $("neighbours");
  box.replaceChildren();
  const minis = new Map();
  for (const nb of rows) {
    const card = document.createElement("div");
    card.className = "card";
    card.dataset.id = nb.obsreg_id;
    card.dataset.testid = "neighbour-card";
    const head = document.createElement("div");
    head.className = "head";
    head.textContent = `${nb.obsreg_id}  feature distance ${fmt(nb.feature_distance)}  score ${fmt(nb.score)}${nb.known_type ? `  [${nb.known_type}]` : ""}`;
    head.title = state.meta.distance ? state.meta.distance.definition : "";
    const mini = document.createElement("div");
    mini.className = "mini";
    card.append(head, mini);
    card.addEventListener("click", () => openSource(nb.obsreg_id).catch(reportError));
    box.append(card);
    minis.set(nb.obsreg_id, mini);
  }
  return minis;
}

async function fetchThumbnails(minis) {
  // every neighbour's E-t thumbnail in one request (the server caches the maps), on canvases
  if (minis.size === 0) return;
  const ids = [...minis.keys()].map(encodeURIComponent).join(",");
  try {
    const res = await apiGet(`/api/etmaps?ids=${ids}`);
    for (const [id, mini] of minis) {
      const et = res.maps[id];
      if (et) drawHeatThumb(mini, et.z);
      else mini.textContent = "no map";
    }
  } catch (err) {
    for (const mini of minis.values()) mini.textContent = "no map";
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
  const [res, notes] = await Promise.all([apiGet("/api/labels"), apiGet("/api/notes")]);
  state.labels = new Map(res.rows.map((r) => [r.obsreg_id, r]));
  state.notes = new Map(notes.rows.map((r) => [r.obsreg_id, r.note]));
  $("n-labels").textContent = String(res.rows.length);
  const notesOnly = notes.rows.filter((r) => !state.labels.has(r.obsreg_id)).length;
  $("n-notes").textContent = `${notes.rows.length} notes (${notesOnly} without a label)`;
  const all = [...res.rows, ...notes.rows.filter((r) => !state.labels.has(r.obsreg_id)).map((r) => ({ ...r, label: "" }))];
  const rows = all
    .map((r) => ({ ...r, note: state.notes.get(r.obsreg_id) || "", when: fmtTime(r.time), sortKey: typeof r.time === "number" ? r.time : Date.parse(r.time) / 1000 }))
    .sort((a, b) => b.sortKey - a.sortKey);
  fillRows("labels-table", rows, ["obsreg_id", "label", "note", "when"], (r) => openSource(r.obsreg_id).catch(reportError));
}

async function loadCandidates() {
  const order = $("review-order").value;
  const res = await apiGet(`/api/candidates?order=${encodeURIComponent(order)}&limit=500`);
  state.cands = res.rows;
  state.counts = { n_total: res.n_total, n_labelled: res.n_labelled, n_unlabelled: res.n_unlabelled };
  state.pos = 0;
  await showCandidate();
}

function updateCounter() {
  // Position in the queue of unlabelled candidates, and labels given out of all sources.
  const c = state.counts || { n_total: 0, n_labelled: 0 };
  const nLab = state.labels.size;
  const left = Math.max(c.n_total - nLab, 0);
  $("review-pos").textContent = state.cands.length
    ? `candidate ${state.pos + 1} of ${left} unlabelled \u00b7 ${nLab} of ${c.n_total} sources labelled`
    : `no candidates left \u00b7 ${nLab} of ${c.n_total} sources labelled`;
}

async function saveNote() {
  const row = state.cands[state.pos];
  if (!row) return;
  const note = $("review-note").value;
  if ((state.notes.get(row.obsreg_id) || "") === note) return;
  await apiPost("/api/notes", { obsreg_id: row.obsreg_id, note });
  if (note) state.notes.set(row.obsreg_id, note);
  else state.notes.delete(row.obsreg_id);
  $("saved").textContent = `note saved: ${row.obsreg_id}`;
  document.body.dataset.lastNote = `${row.obsreg_id}:${note}`;
  loadLabels().catch(reportError);
}

async function undoLast() {
  const res = await (await apiPost("/api/undo", {})).json();
  await loadLabels();
  refreshCurve().catch(reportError);
  if (!res.undone) {
    $("saved").textContent = "nothing to undo";
    return;
  }
  const id = res.undone.obsreg_id;
  let i = state.cands.findIndex((r) => r.obsreg_id === id);
  if (i < 0) {
    state.cands.splice(state.pos, 0, { obsreg_id: id, rank: null, score: null, active_score: null, reason: "" });
    i = state.pos;
  }
  state.pos = i;
  $("saved").textContent = `undone: ${id} \u2192 ${res.undone.label || "(unlabel)"}`;
  document.body.dataset.lastUndo = id;
  await showCandidate();
}

async function unlabelCurrent() {
  const row = state.cands[state.pos];
  if (!row) return;
  await apiPost("/api/unlabel", { obsreg_id: row.obsreg_id });
  await loadLabels();
  $("saved").textContent = `unlabelled: ${row.obsreg_id}`;
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
    updateCounter();
    return;
  }
  state.pos = Math.min(Math.max(state.pos, 0), n - 1);
  const row = state.cands[state.pos];
  const lab = state.labels.get(row.obsreg_id);
  $("review-id").textContent = row.obsreg_id;
  updateCounter();
  $("review-info").textContent =
    `rank ${fmt(row.rank)} \u00b7 score ${fmt(row.score)} \u00b7 active ${fmt(row.active_score)} \u00b7 ${row.reason || ""}${lab ? ` \u00b7 label: ${lab.label}` : ""}`;
  $("review-note").value = state.notes.get(row.obsreg_id) || "";
  for (const b of $("label-buttons").children) b.classList.toggle("current", !!lab && b.dataset.label === lab.label);
  const id = row.obsreg_id;
  const src = await getSource(id);
  if (state.cands[state.pos] && state.cands[state.pos].obsreg_id !== id) return; // moved on meanwhile
  const et = etMapFigure(src.et_map, false, src.time_zero);
  et.layout.title = { text: `${id} E\u2013t map`, font: { size: 12 } };
  await Plotly.react($("review-et"), et.data, et.layout, SMALL_CONFIG);
  const lc = lightcurveFigure(src.lightcurve, false, { timeZero: src.time_zero });
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
    if (note) state.notes.set(row.obsreg_id, note);
    $("n-labels").textContent = String(res.n_labels);
    saved.textContent = `saved: ${row.obsreg_id} \u2192 ${label}`;
    document.body.dataset.lastSaved = `${row.obsreg_id}:${label}`;
  } catch (err) {
    saved.textContent = "NOT saved";
    saved.classList.add("error");
    throw err;
  }
  loadLabels().catch(reportError);
  refreshCurve().catch(reportError);
  if (state.pos < state.cands.length - 1) state.pos += 1;
  await showCandidate();
}

async function rerank() {
  setStatus("re-ranking\u2026");
  const resp = await apiPost("/api/rerank", {});
  const res = await resp.json();
  await drawLearningCurve(res);
  $("review-order").value = "active";
  await loadCandidates();
  setStatus(`re-ranked with ${res.n_labels} labels (${res.strategy})`);
}

async function refreshCurve() {
  // the learning curve follows every label (no re-rank needed)
  drawLearningCurve(await apiGet("/api/learning-curve"));
}

function drawLearningCurve(res) {
  // Interesting sources found against sources inspected, with the static ranking's curve.
  const c = res.curve || { n_inspected: [], n_interesting: [] };
  const st = res.static_curve || { n_inspected: [], n_interesting: [] };
  const n = c.n_inspected.length ? c.n_inspected[c.n_inspected.length - 1] : 0;
  const found = Math.max(c.n_interesting.length ? c.n_interesting[c.n_interesting.length - 1] : 0,
    st.n_interesting.length ? st.n_interesting[st.n_interesting.length - 1] : 0);
  return Plotly.react(
    $("rerank-plot"),
    [
      { type: "scatter", mode: "lines", name: `you (${res.strategy})`, x: c.n_inspected, y: c.n_interesting, line: { shape: "hv", width: 2 } },
      { type: "scatter", mode: "lines", name: `static ranking (${st.basis || ""})`, x: st.n_inspected, y: st.n_interesting, line: { shape: "hv", width: 1.5, dash: "dot", color: "#7f7f7f" } },
    ],
    {
      margin: { l: 45, r: 10, t: 30, b: 40 }, legend: { x: 0, y: 1, font: { size: 9 } },
      title: { text: "learning curve: interesting found vs inspected", font: { size: 12 } },
      xaxis: { title: { text: "inspected" }, range: [0, Math.max(n, 1)], dtick: Math.max(1, Math.ceil(n / 8)) },
      yaxis: {
        title: { text: "interesting" }, range: [0, Math.max(found, 1) * 1.05], dtick: Math.max(1, Math.ceil(found / 6)),
      },
    },
    SMALL_CONFIG,
  );
}

function onKey(ev) {
  if (activePane() !== "review" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const tag = ev.target && ev.target.tagName;
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") {
    if (ev.key === "Enter" && ev.target.id === "review-note") {
      saveNote().catch(reportError);
      ev.target.blur();
    } else if (ev.key === "Escape") ev.target.blur();
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
  } else if (key === "u") {
    ev.preventDefault();
    undoLast().catch(reportError);
  } else if (key === "x") {
    ev.preventDefault();
    unlabelCurrent().catch(reportError);
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
    marker: { size: 5, color: categoryColour(k), opacity: 0.8 },
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
  // class probabilities as bars (p_* columns)
  const probCols = cols.names.map((c, j) => [c, j]).filter(([c]) => c.startsWith("p_"));
  const trs = $("cat-table").querySelectorAll("tbody tr");
  trs.forEach((tr, i) => {
    for (const [c, j] of probCols) {
      const v = rows[i][c];
      if (typeof v !== "number") continue;
      const td = tr.children[j];
      td.className = "bar-cell";
      td.replaceChildren();
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.dataset.testid = "prob-bar";
      bar.style.width = `${Math.round(v * 60)}px`;
      td.append(bar, v.toFixed(3));
    }
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
  $("review-order").addEventListener("change", () => {
    apiPost("/api/review-state", { order: $("review-order").value }).catch(reportError);
    loadCandidates().catch(reportError);
  });
  $("rerank").addEventListener("click", () => rerank().catch(reportError));
  $("undo").addEventListener("click", () => undoLast().catch(reportError));
  $("unlabel").addEventListener("click", () => unlabelCurrent().catch(reportError));
  $("save-note").addEventListener("click", () => saveNote().catch(reportError));
  $("review-note").addEventListener("change", () => saveNote().catch(reportError));
  $("lc-rebin").addEventListener("change", () => drawLightcurve().catch(reportError));
  $("lc-log").addEventListener("change", () => drawLightcurve().catch(reportError));
  $("spec-log").addEventListener("change", () => state.sourceId && openSource(state.sourceId, { pushUrl: false }).catch(reportError));
  $("show-truth").addEventListener("change", () => {
    renderColourChoices();
    if (state.sourceId) $("truth-box").hidden = !showTruth();
  });
  $("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    runSearch().catch(reportError);
  });
  for (const id of ["tbl-filter", "tbl-min-score", "tbl-labelled"]) $(id).addEventListener("input", renderTable);
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
  document.body.dataset.pane = "embedding";
  setStatus("loading points\u2026");
  // 1. the embedding drawn on a canvas from the binary /api/xy: on screen before Plotly loads
  const xyResp = await EARLY.xy;
  if (!xyResp.ok) throw await apiError(xyResp);
  const xyBuf = await xyResp.arrayBuffer();
  T.xy_body = performance.now();
  const nXy = xyBuf.byteLength / 16;
  drawPreview(xyBuf, nXy);
  T.preview_drawn = performance.now();
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  T.shown = performance.now();
  document.body.dataset.shown = "1";
  setStatus(`${nXy.toLocaleString()} points drawn in ${(T.shown / 1000).toFixed(2)} s; loading the interactive view\u2026`);
  // 2. Plotly and the full columns (ids, known types, colour columns), then the WebGL embedding
  const plotlyP = loadPlotly();
  const rest = { meta: fetch("/api/meta"), points: fetch("/api/points") };
  const metaResp = await rest.meta;
  if (!metaResp.ok) throw await apiError(metaResp);
  const metaP = metaResp.json();
  const pointsResp = await rest.points;
  if (!pointsResp.ok) throw await apiError(pointsResp);
  T.points_headers = performance.now();
  const text = await pointsResp.text();
  T.points_body = performance.now();
  state.points = JSON.parse(text);
  T.points_parsed = performance.now();
  T.points_bytes = text.length;
  state.meta = await metaP;
  await plotlyP;
  T.plotly_loaded = performance.now();
  wireControls();
  $("run-name").textContent = `${state.meta.run} \u00b7 ${state.meta.n_sources} sources \u00b7 ${state.meta.kind}`;
  document.querySelector('[data-pane="catalog"]').hidden = !(state.meta.kind === "classification" || state.meta.kind === "both");
  renderLabelButtons();
  $("review-order").value = state.meta.review_order || "static";
  if (state.meta.distance) $("distance-def").textContent = `(feature distance: ${state.meta.distance.definition})`;
  const labelsP = loadLabels().catch(reportError);
  const linked = sourceIdFromPath();
  if (linked !== null) {
    // a deep link: the source first, the embedding (in its hidden pane) after
    state.indexOf = new Map(state.points.obsreg_id.map((id, i) => [id, i]));
    await labelsP;
    await openLinkedSource(linked);
  }
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
  if (linked === null) setStatus(`${T.n_points.toLocaleString()} points: drawn in ${(T.shown / 1000).toFixed(2)} s, interactive in ${(T.ready / 1000).toFixed(2)} s`);
}

async function openLinkedSource(id) {
  if (!state.indexOf.has(id)) {
    showPane("source");
    $("source-id").textContent = `unknown source ${id}`;
    setStatus(`this run has no source ${id}`, true);
    return;
  }
  await openSource(id, { pushUrl: false });
}

window.addEventListener("popstate", () => {
  const id = sourceIdFromPath();
  if (id !== null && state.points) openLinkedSource(id).catch(reportError);
  else if (id === null) showPane("embedding");
});

function start() {
  main().catch((err) => {
    reportError(err);
    document.body.dataset.ready = "error";
  });
}

Object.assign(window.serendip, { openSource, setSelection, highlight, findAnalogs, showPane, rerank });

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
