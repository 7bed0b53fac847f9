"""``RUN_DIR/report.html``: one self-contained page whose plots are drawn from data in the browser.

Sections, results first: a summary line; the embedding (one interactive canvas scatter,
coloured by cluster, by known type or by candidate score, with the top candidates ringed
and a tooltip per point); the top candidates table; E-t maps and binned light curves with
hardness ratio of the top candidates; a gallery per cluster (E-t maps of its best-scoring
members) with the cluster summary table; the run's settings last.

Nothing is rendered on the server: the page carries the numbers (embedding coordinates,
E-t map counts, light-curve bins) as JSON and a small script draws them on ``<canvas>``
elements, so writing the report costs the same few tenths of a second whatever the run
size (the matplotlib version took 10-14 s for its 27 PNG figures). The conventions are the
explorer app's (``serendip explore``): energies in keV, the Viridis colour map for counts
and scores (from the lowest to the highest score), the same categorical palette (20 colours,
then generated hues that do not repeat) with noise (cluster 0) in grey, times in
seconds from the file's first event, rate in counts/s with Poisson errors and hardness
``(H - S) / (H + S)`` with S = 0.5-2 keV, H = 2-7 keV. The page fits a 1366 px wide
screen without horizontal scrolling (wide tables scroll inside their own box).
"""

from __future__ import annotations

import html
import json
import time as _time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.io.atomic import atomic_path
from serendip.io.eventset import EventSet
from serendip.layout import RunLayout

E_BAND_EV = (500.0, 7000.0)  # eV, the E-t map band
ET_BINS = (24, 16)  # time x energy bins of the E-t maps shown

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,Helvetica,Arial,sans-serif;margin:1em auto;max-width:1200px;padding:0 12px;color:#222}
h1{font-size:1.45em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.4em}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:12px;margin:.5em 0}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
td{max-width:420px;overflow-wrap:anywhere}th{background:#f3f3f3}
pre{background:#f7f7f7;padding:.6em;font-size:12px;white-space:pre-wrap;overflow-wrap:anywhere}
.note{color:#666;font-size:12px}.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{border:1px solid #e3e3e3;border-radius:4px;padding:6px;width:100%;max-width:580px}
.card p{margin:.2em 0;font-size:12px}.thumbs{display:flex;flex-wrap:wrap;gap:6px}
.thumb{font-size:10px;text-align:center}canvas{display:block;max-width:100%}
#tip{position:fixed;pointer-events:none;background:#fff;border:1px solid #999;padding:2px 5px;font-size:11px;display:none}
"""

#: the explorer app's categorical palette (src/serendip/app/static/app.js)
PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#000080", "#f0a0ff", "#005c31", "#ff0010", "#5ef1f2", "#993f00", "#ffa405",
    "#740aff", "#00998f", "#808000", "#4c005c",
]  # fmt: skip
#: grey of the noise cluster, as in the app
NOISE_COLOUR = "#bbbbbb"

_JS = r"""
"use strict";
const D = JSON.parse(document.getElementById("report-data").textContent);
const VIR = [[68,1,84],[71,44,122],[59,81,139],[44,113,142],[33,144,141],[39,173,129],[92,200,99],[170,220,50],[253,231,37]];
function viridis(t){t=Math.min(1,Math.max(0,t));const x=t*(VIR.length-1),i=Math.min(VIR.length-2,Math.floor(x)),f=x-i;
  const c=VIR[i].map((v,k)=>Math.round(v+(VIR[i+1][k]-v)*f));return `rgb(${c[0]},${c[1]},${c[2]})`;}
// categories: the app's 20 colours, then golden-angle hues (app.js categoryColour): no repeats
function catColour(i){if(i<D.palette.length)return D.palette[i];const k=i-D.palette.length;
  return `hsl(${((k*137.508)%360).toFixed(1)}, ${k%2?70:90}%, ${[42,58,30][Math.floor(k/7)%3]}%)`;}
function fmt(v){return v===null||v===undefined?"":(Math.abs(v)>=1e4||(Math.abs(v)<1e-3&&v!==0)?v.toExponential(3):(+v.toPrecision(4)).toString());}
function setup(cv,w,h){const r=window.devicePixelRatio||1;cv.width=w*r;cv.height=h*r;cv.style.width=w+"px";cv.style.height=h+"px";
  const g=cv.getContext("2d");g.setTransform(r,0,0,r,0,0);g.font="11px sans-serif";return g;}
function axes(g,box,xr,yr,xl,yl,xlog,ylog){const [L,T,W,H]=box;g.strokeStyle="#444";g.strokeRect(L,T,W,H);g.fillStyle="#222";
  g.textAlign="center";g.fillText(xl,L+W/2,T+H+28);g.save();g.translate(L-36,T+H/2);g.rotate(-Math.PI/2);g.fillText(yl,0,0);g.restore();
  const tick=(v,log)=>log?fmt(Math.pow(10,v)):fmt(v);
  for(let i=0;i<=4;i++){const xv=xr[0]+(xr[1]-xr[0])*i/4,yv=yr[0]+(yr[1]-yr[0])*i/4;
    g.textAlign="center";g.fillText(tick(xv,xlog),L+W*i/4,T+H+13);g.textAlign="right";g.fillText(tick(yv,ylog),L-4,T+H-H*i/4+4);}}
// ---- embedding
const E=D.embedding;let mode=E?(E.n_clusters>1?"cluster":"score"):null;
function colourOf(i){if(mode==="score"){return viridis((E.score[i]-E.smin)/Math.max(1e-12,E.smax-E.smin));}
  if(mode==="known"){const k=E.known[i];return k<0?"#cccccc":catColour(k);}
  const c=E.cluster[i];return c===0?D.noise:catColour(E.cidx[i]);}
function drawEmbedding(){const cv=document.getElementById("emb");if(!cv||!E)return;const w=Math.min(760,cv.parentElement.clientWidth),h=Math.round(w*0.78);
  const g=setup(cv,w,h),box=[50,10,w-78,h-50];E.box=box;const [L,T,W,H]=box;
  const sx=v=>L+(v-E.xr[0])/(E.xr[1]-E.xr[0])*W,sy=v=>T+H-(v-E.yr[0])/(E.yr[1]-E.yr[0])*H;E.sx=sx;E.sy=sy;
  const n=E.x.length,s=n>20000?1.5:n>3000?2.5:3.5;const order=E.order[mode];
  for(const i of order){g.fillStyle=colourOf(i);g.fillRect(sx(E.x[i])-s/2,sy(E.y[i])-s/2,s,s);}
  g.strokeStyle="#e41a1c";g.lineWidth=1.5;for(const i of E.top){g.beginPath();g.arc(sx(E.x[i]),sy(E.y[i]),6,0,2*Math.PI);g.stroke();}
  g.lineWidth=1;axes(g,box,E.xr,E.yr,"t-SNE 1","t-SNE 2");legend();}
function legend(){const el=document.getElementById("emb-legend");let h="";
  if(mode==="score")h=`score: <span style="color:${viridis(0)}">&#9632;</span> ${fmt(E.smin)} &rarr; <span style="color:${viridis(1)}">&#9632;</span> ${fmt(E.smax)}`;
  else if(mode==="known")h=E.known_names.map((k,j)=>`<span style="color:${catColour(j)}">&#9632;</span> ${k}`).join(" &nbsp;")+` &nbsp;<span style="color:#ccc">&#9632;</span> other`;
  else h=E.legend.map(([c,n,j])=>`<span style="color:${c===0?D.noise:catColour(j)}">&#9632;</span> ${c===0?"noise":c} (${n})`).join(" &nbsp;");
  el.innerHTML=h+" &nbsp; <span style='color:#e41a1c'>&#9675;</span> top candidates";}
function hover(ev){const cv=document.getElementById("emb"),tip=document.getElementById("tip");if(!E||!E.sx)return;
  const r=cv.getBoundingClientRect(),mx=ev.clientX-r.left,my=ev.clientY-r.top;let best=-1,bd=64;
  for(let i=0;i<E.x.length;i++){const dx=E.sx(E.x[i])-mx,dy=E.sy(E.y[i])-my,d=dx*dx+dy*dy;if(d<bd){bd=d;best=i;}}
  if(best<0){tip.style.display="none";return;}
  tip.innerHTML=`${E.id[best]}<br>rank ${E.rank[best]}, score ${fmt(E.score[best])}<br>cluster ${E.cluster[best]===0?"noise":E.cluster[best]}${E.known[best]>=0?"<br>known "+E.known_names[E.known[best]]:""}`;
  tip.style.left=(ev.clientX+12)+"px";tip.style.top=(ev.clientY+12)+"px";tip.style.display="block";}
// ---- E-t maps and light curves
function heat(cv,m,w,h,small){const g=setup(cv,w,h),box=small?[2,2,w-4,h-4]:[50,8,w-110,h-46];const [L,T,W,H]=box;
  const z=m.z,nt=z.length,ne=z[0].length;let mx=0;for(const r of z)for(const v of r)mx=Math.max(mx,v);
  for(let i=0;i<nt;i++)for(let j=0;j<ne;j++){g.fillStyle=viridis(mx>0?z[i][j]/mx:0);
    g.fillRect(L+W*i/nt,T+H-H*(j+1)/ne,W/nt+0.5,H/ne+0.5);}
  if(small)return;axes(g,box,[0,m.t_span_s],[Math.log10(m.e_kev[0]),Math.log10(m.e_kev[1])],"time since first event (s)","energy (keV)",false,true);
  for(let k=0;k<=20;k++){g.fillStyle=viridis(k/20);g.fillRect(L+W+12,T+H-H*(k+1)/21,10,H/21+0.5);}
  g.fillStyle="#222";g.textAlign="left";g.fillText("0",L+W+26,T+H);g.fillText(fmt(mx)+" counts",L+W+26,T+10);}
function curve(cv,lc,w,h){const g=setup(cv,w,h);if(!lc.t.length){g.fillText("no events",20,20);return;}
  const L=50,W=w-60,H1=Math.round((h-60)*0.66),H2=h-60-H1-8,T1=8,T2=T1+H1+8;
  const tmax=Math.max(...lc.t.map((t,i)=>t+lc.w[i]/2)),sx=t=>L+t/tmax*W;
  let rmax=0;lc.rate.forEach((r,i)=>rmax=Math.max(rmax,r+lc.err[i]));rmax=rmax||1;const sy=r=>T1+H1-r/rmax*H1;
  g.strokeStyle="#1f77b4";g.fillStyle="#1f77b4";lc.t.forEach((t,i)=>{g.beginPath();g.moveTo(sx(t-lc.w[i]/2),sy(lc.rate[i]));g.lineTo(sx(t+lc.w[i]/2),sy(lc.rate[i]));
    g.moveTo(sx(t),sy(Math.max(0,lc.rate[i]-lc.err[i])));g.lineTo(sx(t),sy(lc.rate[i]+lc.err[i]));g.stroke();g.fillRect(sx(t)-1.5,sy(lc.rate[i])-1.5,3,3);});
  axes(g,[L,T1,W,H1],[0,tmax],[0,rmax],"","rate (ct/s)");const sh=v=>T2+H2-(v+1)/2*H2;g.strokeStyle="#444";g.strokeRect(L,T2,W,H2);
  g.strokeStyle="#d62728";g.beginPath();let first=true;lc.t.forEach((t,i)=>{const v=lc.hr[i];if(v===null){first=true;return;}
    if(first){g.moveTo(sx(t),sh(v));first=false;}else g.lineTo(sx(t),sh(v));});g.stroke();
  g.fillStyle="#222";g.textAlign="right";g.fillText("HR +1",L-4,T2+9);g.fillText("-1",L-4,T2+H2);g.textAlign="center";
  g.fillText("time since first event (s); HR = (H-S)/(H+S)",L+W/2,T2+H2+26);for(let i=0;i<=4;i++)g.fillText(fmt(tmax*i/4),L+W*i/4,T2+H2+12);}
function drawFiles(){for(const f of D.files){const a=document.getElementById("map-"+f.key),b=document.getElementById("lc-"+f.key);
    if(a)heat(a,f.map,280,200,false);if(b)curve(b,f.lc,290,200);}
  for(const t of D.thumbs){const c=document.getElementById("th-"+t.key);if(c)heat(c,t.map,92,72,true);}}
function init(){const sel=document.getElementById("emb-mode");if(sel&&E){sel.value=mode;sel.addEventListener("change",()=>{mode=sel.value;drawEmbedding();});
    document.getElementById("emb").addEventListener("mousemove",hover);document.getElementById("emb").addEventListener("mouseleave",()=>{document.getElementById("tip").style.display="none";});}
  drawEmbedding();drawFiles();document.body.dataset.ready="1";}
window.addEventListener("resize",drawEmbedding);init();
"""

TABLE_COLUMNS = [
    "rank",
    "obsreg_id",
    "score",
    "reasons",
    "anomaly_percentile",
    "nearest_known",
    "nearest_known_distance",
    "cluster",
    "known_type",
]


def _table(df: pd.DataFrame, float_fmt: str = "{:.4g}") -> str:
    body = df.to_html(
        index=False, escape=True, border=0, float_format=lambda v: float_fmt.format(v), na_rep=""
    )
    return f"<div class='scroll'>{body}</div>"


def _lightcurve_cards(cand: pd.DataFrame, rows, lightcurves: pd.DataFrame) -> str:
    """Light curves (PNG per band with errors, folded when periodic) of the top candidates."""
    import base64

    from serendip.represent.lc_view import lightcurve_view, plot_lightcurve_png

    ids = lightcurves["object_id"].astype(str).to_numpy()
    cards = []
    for r in rows:
        row = cand.iloc[r]
        oid = str(row["obsreg_id"])
        view = lightcurve_view(lightcurves[ids == oid])
        png = base64.b64encode(plot_lightcurve_png(view, oid)).decode()
        per = (f"; periodic, P = {view['period_days']:.5g} d (folded at right)"
               if view["period_days"] else "")  # fmt: skip
        cap = f"#{int(row.get('rank', r + 1))} {oid} score {row['score']:.4f}{per}"
        cards.append(
            f"<div class='card'><p><b>{html.escape(cap)}</b></p><p>"
            f"{html.escape(str(row.get('reasons', '')))}</p>"
            f"<img alt='light curve of {html.escape(oid)}' src='data:image/png;base64,{png}'>"
            "</div>"
        )
    return (
        f"<h3>Light curves of the top {len(rows)}</h3><p class='note'>Points per band with "
        "1-sigma errors (MJD); open triangles: upper limits (non-detections). Difference "
        "photometry is shown as difference flux, never as magnitudes.</p>"
        "<div class='cards'>" + "".join(cards) + "</div>"
    )


#: the candidate table's instrument and background flags (serendip.catalog.artefacts,
#: serendip.catalog.common_mode), in the order the report lists them
FLAG_COLUMNS = ("background_flare", "edge_dither", "dither_period", "single_pixel", "streak",
                "pileup", "out_of_time", "dead_time", "near_edge")


def _flag_summary(cand: pd.DataFrame, n_top: int) -> str:
    """One line counting each flag among all candidates and among the top ``n_top`` ("" when
    the table has no flag columns)."""
    cols = [c for c in FLAG_COLUMNS if c in cand.columns]
    if not cols:
        return ""
    top = cand.head(n_top)
    items = [f"{c} {int(cand[c].sum()):,} ({int(top[c].sum())} in the top {len(top)})" for c in cols]
    return ("<p class='note'><b>Flags</b> (the instrument's and the background's false positives; "
            "demoted candidates keep their rows, the reason is in <i>reasons</i>): "
            + html.escape("; ".join(items)) + "</p>")


def _load_events_for(run_dir: Path, ids: list[str]) -> EventSet | None:
    """Events of just ``ids`` from ``RUN_DIR/events.parquet`` (predicate push-down), or None."""
    path = RunLayout(run_dir).events
    if not path.exists() or not ids:
        return None
    df = pd.read_parquet(
        path, columns=["obsreg_id", "time", "energy"], filters=[("obsreg_id", "in", ids)]
    )
    return EventSet.from_frame(df, order=ids, source=path)


def _round(a: np.ndarray, digits: int = 4) -> list:
    """Floats as JSON-ready lists with ``digits`` significant digits (NaN -> None)."""
    a = np.asarray(a, dtype=np.float64)
    out = np.array([float(f"{v:.{digits}g}") if np.isfinite(v) else np.nan for v in a.ravel()])
    return [None if not np.isfinite(v) else v for v in out.tolist()]


def _rounded(a: np.ndarray, decimals: int) -> list:
    """Large float arrays as lists rounded to ``decimals`` (vectorised; NaN -> 0)."""
    return np.round(np.nan_to_num(np.asarray(a, dtype=np.float64)), decimals).tolist()


def _embedding_data(cand: pd.DataFrame, clusters: np.ndarray, known_type: np.ndarray, n_top: int):
    """Columns of the embedding scatter (coordinates rounded to 1/1000 of the range)."""
    from serendip.report.plots import as_frame_xy

    xy = as_frame_xy(cand)
    if xy is None or not len(xy):
        return None
    score = cand["score"].to_numpy(dtype=np.float64)
    span = np.ptp(xy, axis=0)
    span[span == 0] = 1.0
    decimals = int(np.clip(3 - np.floor(np.log10(span.max())), 0, 8))
    names = sorted(set(known_type[known_type != ""]))
    known = pd.Index(names).get_indexer(known_type)  # -1 = not known
    cats, inv, counts = np.unique(clusters, return_inverse=True, return_counts=True)
    order_cat = np.lexsort((cats, -counts))
    order_cat = order_cat[cats[order_cat] != 0]
    colour = np.zeros(len(cats), dtype=np.int64)
    colour[order_cat] = np.arange(len(order_cat))
    lo = float(np.nanmin(score)) if len(score) else 0.0  # the app's range: min to max
    rank = cand["rank"].to_numpy() if "rank" in cand.columns else np.arange(1, len(cand) + 1)
    pad = 0.03 * span
    return {
        "x": _rounded(xy[:, 0], decimals),
        "y": _rounded(xy[:, 1], decimals),
        "xr": [float(xy[:, 0].min() - pad[0]), float(xy[:, 0].max() + pad[0])],
        "yr": [float(xy[:, 1].min() - pad[1]), float(xy[:, 1].max() + pad[1])],
        "id": cand["obsreg_id"].astype(str).tolist(),
        "rank": np.asarray(rank).astype(int).tolist(),
        "score": np.round(score, 5).tolist(),
        "smin": lo,
        "smax": float(score.max()),
        "cluster": clusters.astype(int).tolist(),
        "cidx": colour[inv].astype(int).tolist(),
        "n_clusters": int((cats != 0).sum()),
        "legend": [[int(cats[c]), int(counts[c]), int(colour[c])] for c in order_cat[:20]]
        + ([[0, int(counts[cats == 0].sum()), 0]] if (cats == 0).any() else []),
        "known": known.astype(int).tolist(),
        "known_names": names,
        "top": list(range(min(n_top, len(cand)))),
        "order": {  # drawing order: noise / unknown first, highest scores last
            "cluster": np.argsort(clusters != 0, kind="stable").tolist(),
            "known": np.argsort(known >= 0, kind="stable").tolist(),
            "score": np.argsort(score, kind="stable").tolist(),
        },
    }


def _file_data(events: EventSet, rows: np.ndarray) -> tuple[list[dict], np.ndarray]:
    """E-t maps (counts, time span, band in keV) of files ``rows`` of ``events``."""
    from serendip.represent.maps import et_maps

    sub = events.select(rows)
    maps = et_maps(
        sub, t_bins=ET_BINS[0], e_bins=ET_BINS[1], e_min=E_BAND_EV[0], e_max=E_BAND_EV[1]
    )
    out = []
    for j in range(sub.n_files):  # a few dozen files shown, one small dict each
        t, _ = sub.events_of(j)
        out.append(
            {
                "z": maps[j].astype(int).tolist(),
                "t_span_s": float(t[-1] - t[0]) if len(t) > 1 else 1.0,
                "e_kev": [E_BAND_EV[0] / 1000.0, E_BAND_EV[1] / 1000.0],
            }
        )
    return out, maps


def _lightcurve(time: np.ndarray, energy: np.ndarray) -> dict:
    from serendip.represent import binned_lightcurve

    if len(time) == 0:
        return {"t": [], "w": [], "rate": [], "err": [], "hr": []}
    lc = binned_lightcurve(time, energy, n_bins=int(np.clip(len(time) // 15, 4, 40)))
    return {
        "t": _round(lc["t_mid"].to_numpy() - time[0]),
        "w": _round(lc["t_width"].to_numpy()),
        "rate": _round(lc["rate"].to_numpy()),
        "err": _round(lc["rate_err"].to_numpy()),
        "hr": _round(lc["hr"].to_numpy(), 3),
    }


#: score terms of the candidate table: column, name, what it is
SCORE_TERMS = (
    ("anomaly_percentile", "anomaly",
     "fraction of files whose anomaly score is at or below this one (no known analog needed)"),
    ("nn_score", "analog",
     "1 - nn_span * r / (k + 1) when the file is the r-th nearest neighbour of a known transient"),
    ("cluster_score", "cluster",
     "0.95 + 0.05 * anomaly term, for members of a cluster dominated by known flares or dips"),
    ("significance_score", "burst",
     "percentile of the burst scan statistic when it is >= 3 (its empirical false-alarm "
     "probability is in the significance section)"),
)  # fmt: skip


def _score_terms(cand: pd.DataFrame, n_rows: int) -> list[str]:
    """The report's explanation of each term of the score, and the terms of the top rows."""
    from serendip.catalog.candidates import TIE_BREAK

    terms = [t for t in SCORE_TERMS if t[0] in cand.columns]
    if not terms:
        return []
    dets = [c[len("anomaly_"):] for c in cand.columns
            if c.startswith("anomaly_") and c not in ("anomaly_score", "anomaly_percentile")]  # fmt: skip
    rule = (
        " + ".join(dets) + (" (mean of their calibrated ranks)" if len(dets) > 1 else "")
        if dets else "the run's detector"
    )  # fmt: skip
    items = "".join(
        f"<li><b>{html.escape(name)}</b> (<code>{col}</code>): {html.escape(text)}</li>"
        for col, name, text in terms
    )
    top = cand.head(n_rows)
    vals = top[[t[0] for t in terms]].to_numpy(np.float64)
    deciding = np.array([t[1] for t in terms])[np.argmax(vals, axis=1)]
    shown = (
        top[["rank", "obsreg_id", "score"]].copy()
        if "rank" in top
        else top[["obsreg_id", "score"]].copy()
    )
    for j, (_col, name, _) in enumerate(terms):
        shown[name] = vals[:, j]
    shown["deciding term"] = deciding
    shown["anomaly_score"] = top["anomaly_score"].to_numpy() if "anomaly_score" in top else np.nan
    n_tied = int(top["score"].duplicated(keep=False).sum())
    return [
        "<h3>How each candidate's score is made</h3>",
        f"<p>score = the largest of the terms below, each on a [0, 1] percentile-like scale. "
        f"The anomaly score is {html.escape(rule)}. Ties of the score "
        f"({n_tied} of the {len(top)} rows shown share their score with another) are broken by "
        f"the stated secondary key: {html.escape(TIE_BREAK)}.</p><ul>{items}</ul>",
        _table(shown),
    ]


def _nuisance_section(run_dir: Path) -> list[str]:
    """The nuisance audit written by the candidate stage (RUN_DIR/nuisance.parquet), if any."""
    path = RunLayout(run_dir).nuisance
    if not path.is_file():
        return []
    from serendip.catalog.nuisance import OVER_FACTOR, audit_summary
    from serendip.io.tables import read_table

    audit = read_table(path)
    corr = audit[audit["bin"] == ""].pivot_table(
        index="score", columns="nuisance", values="spearman_rho", sort=False
    )
    shares = audit[audit["bin"] != ""]
    worst = (
        shares.sort_values("ratio", ascending=False)
        .groupby(["score", "nuisance"], sort=False)
        .head(1)[["score", "nuisance", "bin", "n_top", "share_top", "share_all", "ratio"]]
    )
    words = "".join(f"<li>{html.escape(x)}</li>" for x in audit_summary(audit))
    return [
        "<h2>Nuisance audit</h2>",
        "<p>Does a score track the observation rather than the source? Spearman rank "
        "correlation of each score with each nuisance column present, and for each nuisance "
        f"the bin most over-represented in the top 1 % (flagged above {OVER_FACTOR:g}x its "
        f"overall share).</p><ul>{words}</ul>",
        _table(corr.reset_index(), "{:+.2f}") if len(corr) else "",
        _table(worst, "{:.3g}") if len(worst) else "",
    ]


def write_report(
    run_dir: str | Path,
    candidates: pd.DataFrame | None = None,
    events: EventSet | None = None,
    settings: dict[str, Any] | None = None,
    cluster_table: pd.DataFrame | None = None,
    *,
    n_top: int = 12,
    n_table: int = 50,
    max_clusters: int = 12,
    n_per_cluster: int = 6,
    title: str = "serendip run report",
    lightcurves: pd.DataFrame | None = None,
) -> Path:
    """Write ``RUN_DIR/report.html`` and return its path.

    Parameters
    ----------
    run_dir : the run directory (created if missing).
    candidates : the catalogue from :func:`serendip.catalog.build_candidates`; default
        ``RUN_DIR/candidates.parquet``. Its ``emb_x``/``emb_y``, ``cluster``,
        ``known_type`` and ``score`` columns drive the embedding plot.
    events : EventSet holding (at least) the files to show; default: just those files
        read from ``RUN_DIR/events.parquet``. Without events the map / light-curve
        sections say so and are skipped.
    settings : the run's settings (any JSON-serialisable dict), shown verbatim at the end.
    cluster_table : per-cluster summary (:func:`serendip.cluster.cluster_summary`);
        computed from the catalogue when omitted.
    n_top : candidates shown with E-t map and light curve; ``n_table`` rows in the table.
    max_clusters, n_per_cluster : size of the per-cluster gallery (largest clusters).
    lightcurves : a light-curve run's standard table (:mod:`serendip.io.lightcurves`): the top
        candidates are shown as light curves per band with errors (folded too when periodic)
        instead of E-t maps.
    """
    from serendip.cluster.summary import cluster_summary

    t0 = _time.perf_counter()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if candidates is None:
        from serendip.catalog.candidates import read_candidates

        candidates = read_candidates(RunLayout(run_dir).candidates)
    if "obsreg_id" not in candidates.columns or "score" not in candidates.columns:
        raise InputError(None, "candidate table needs obsreg_id and score columns")
    cand = (
        candidates.sort_values("rank", kind="stable")
        if "rank" in candidates.columns
        else candidates
    )
    cand = cand.reset_index(drop=True)
    n = len(cand)
    clusters = (
        cand["cluster"].to_numpy(dtype=np.int64)
        if "cluster" in cand.columns
        else np.zeros(n, np.int64)
    )
    known_type = (
        cand["known_type"].fillna("").astype(str).to_numpy()
        if "known_type" in cand.columns
        else np.full(n, "")
    )

    # which files need events: top candidates + cluster gallery members
    big = pd.Series(clusters[clusters > 0]).value_counts().head(max_clusters).index.to_numpy()
    gallery_rows = {c: np.flatnonzero(clusters == c)[:n_per_cluster] for c in big}
    top_rows = np.arange(min(n_top, n))
    need = (
        np.unique(np.concatenate([top_rows, *gallery_rows.values()]).astype(np.int64))
        if n
        else np.zeros(0, int)
    )
    ids = cand["obsreg_id"].astype(str).to_numpy()
    if events is None and lightcurves is None:
        events = _load_events_for(run_dir, ids[need].tolist())
    ev_index = (
        pd.Index(np.asarray(events.obsreg_id).astype(str)) if events is not None else pd.Index([])
    )

    data: dict[str, Any] = {"palette": PALETTE, "noise": NOISE_COLOUR, "files": [], "thumbs": []}
    data["embedding"] = _embedding_data(cand, clusters, known_type, n_top)
    n_clusters = len(np.unique(clusters[clusters > 0]))
    parts: list[str] = [
        f"<!doctype html><html><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<div id='tip'></div><h1>{html.escape(title)}</h1>",
        f"<p>{n:,} files; {int((clusters > 0).sum()):,} in {n_clusters} clusters, "
        f"{int((clusters == 0).sum()):,} noise (cluster 0); {int((known_type != '').sum())} known "
        f"transients. Written {pd.Timestamp.now('UTC').strftime('%Y-%m-%d %H:%M UTC')}; settings "
        f"at the end.</p>",
        "<h2>Embedding</h2>",
    ]
    if data["embedding"] is not None:
        parts.append(
            "<p>colour by <select id='emb-mode'><option value='cluster'>cluster</option>"
            "<option value='known'>known type</option><option value='score'>candidate score"
            "</option></select> &nbsp;<span class='note'>hover a point for its id</span></p>"
            "<canvas id='emb' aria-label='embedding scatter'></canvas>"
            "<p id='emb-legend' class='note'></p>"
        )
    else:
        parts.append(
            "<p class='note'>No embedding coordinates (emb_x, emb_y) in the catalogue.</p>"
        )

    parts.append(
        f"<h2>Top candidates</h2>{_table(cand[[c for c in TABLE_COLUMNS if c in cand.columns]].head(n_table))}"
    )
    flags = _flag_summary(cand, n_table)
    if flags:
        parts.append(flags)
    parts += _score_terms(cand, n_table)
    if lightcurves is None:
        from serendip.report.significance import significance_section

        parts += significance_section(run_dir, cand, n_top)
    parts += _nuisance_section(run_dir)
    from serendip.report import sections

    parts += sections.sources_section(run_dir)
    from serendip.report.completeness import completeness_section

    parts += completeness_section(run_dir)
    if lightcurves is not None:
        parts.append(_lightcurve_cards(cand, top_rows, lightcurves))
    else:
        parts.append(
            f"<h3>E-t maps and light curves of the top {len(top_rows)}</h3>"
            "<p class='note'>E-t map: counts per (time, energy) bin, 24 x 16 bins from the first "
            "to the last event, 0.5-7 keV on a log scale. Light curve: rate in counts/s (bars: "
            "Poisson errors, bin width) and hardness ratio (H-S)/(H+S), S = 0.5-2 keV, H = 2-7 "
            "keV.</p>"
        )
    if lightcurves is not None:
        pass
    elif events is None:
        parts.append(
            "<p class='note'>No events available (no RUN_DIR/events.parquet); maps skipped.</p>"
        )
    else:
        pos = ev_index.get_indexer(ids[top_rows]) if len(top_rows) else np.zeros(0, int)
        shown = pos[pos >= 0]
        maps, _ = _file_data(events, shown) if len(shown) else ([], None)
        cards = []
        k = 0
        for r, j in zip(top_rows, pos, strict=True):
            row = cand.iloc[r]
            if j < 0:
                cards.append(
                    f"<p class='note'>{html.escape(str(row['obsreg_id']))}: events not found.</p>"
                )
                continue
            t, e = events.events_of(int(j))
            key = f"top{r}"
            data["files"].append({"key": key, "map": maps[k], "lc": _lightcurve(t, e)})
            k += 1
            cap = (
                f"#{int(row.get('rank', r + 1))} {row['obsreg_id']} score {row['score']:.4f} "
                f"({len(t)} events)"
            )
            cards.append(
                f"<div class='card'><p><b>{html.escape(cap)}</b></p><p>"
                f"{html.escape(str(row.get('reasons', '')))}</p><div class='thumbs'>"
                f"<canvas id='map-{key}'></canvas><canvas id='lc-{key}'></canvas></div></div>"
            )
        parts.append("<div class='cards'>" + "".join(cards) + "</div>")

    parts.append("<h2>Clusters</h2>")
    if cluster_table is None:
        feats = cand.select_dtypes(include=[np.number]).drop(
            columns=[c for c in ("rank", "cluster", "emb_x", "emb_y") if c in cand.columns]
        )
        cluster_table = cluster_summary(clusters, known_type, feats)
    parts.append(_table(cluster_table.head(60)))
    if events is not None and len(gallery_rows):
        parts.append(
            f"<h3>Gallery: E-t maps of the best-scoring members of the {len(gallery_rows)} "
            "largest clusters</h3>"
        )
        rows = np.concatenate(list(gallery_rows.values()))
        pos = ev_index.get_indexer(ids[rows])
        maps, _ = _file_data(events, pos[pos >= 0]) if (pos >= 0).any() else ([], None)
        found = dict(zip(rows[pos >= 0].tolist(), maps, strict=True))
        for c, members in gallery_rows.items():
            items = []
            for r in members:
                if int(r) not in found:
                    continue
                key = f"c{c}r{r}"
                data["thumbs"].append({"key": key, "map": found[int(r)]})
                rank = int(cand["rank"].iloc[r]) if "rank" in cand else r + 1
                items.append(
                    f"<div class='thumb'><canvas id='th-{key}'></canvas>"
                    f"{html.escape(str(ids[r]))} #{rank}</div>"
                )
            if items:
                parts.append(
                    f"<p><b>cluster {c}</b> ({int((clusters == c).sum()):,} files)</p>"
                    f"<div class='thumbs'>{''.join(items)}</div>"
                )
    parts.append(
        "<h2>Settings</h2><pre>"
        + html.escape(
            json.dumps(settings or {}, indent=2, sort_keys=True, default=str), quote=False
        )
        + "</pre>"
    )
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    parts.append(
        f"<script type='application/json' id='report-data'>{payload}</script>"
        f"<script>{_JS}</script>"
        f"<p class='note'>Report written in {_time.perf_counter() - t0:.2f} s.</p></body></html>"
    )
    path = RunLayout(run_dir).report
    with atomic_path(path) as tmp:
        Path(tmp).write_text("\n".join(parts), encoding="utf-8")
    return path
