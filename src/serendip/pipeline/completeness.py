"""Completeness of a finished run by injection and recovery: ``serendip completeness RUN_DIR``.

:func:`completeness` injects flares and fast X-ray transients into the run's own sources and
scores them again exactly as the run did, reporting how often each comes out in the top k:

* **Hosts**: sources of the run that are neither known transients nor already in the top k of
  its candidates, and whose exposure holds the transient; each host keeps its own photons, so
  the injection sits on the host's real quiescent level and local background. Injected
  photons outside the host's good-time intervals (``gtis.parquet``) are dropped, as the
  instrument would never have recorded them.
* **Transients** (:func:`serendip.simulate.inject.inject_transients`): per case (``kind``,
  ``duration``, ``counts``) ``n_per_cell`` injections; a flare's ``duration`` is its e-folding
  decay time, an FXT's its spike length [s]; ``counts`` the expected photons in the band.
* **Re-scoring**: a batch of at most ``batch_fraction`` of the sources (so the injections do
  not change the population they are ranked in) replaces its hosts' events; their event
  features and the configured feature case are recomputed (the run's fitted feature model when
  it saved one), then :func:`serendip.pipeline.ranking.rank_features` with the run's candidate
  settings ranks all sources again. The injected source keeps its host's cluster and
  embedding position (the embedding is not refitted) and the own-annulus common-mode test is
  not rerun (``events`` not passed).
* **Recovered**: rank <= k = ``ceil(top_fraction * n_sources)`` by the final score
  (``recovered``) and by the anomaly score alone (``recovered_anomaly``).

The per-injection table (``completeness.parquet``) also carries the host's counts, exposure
and, where the run has them, its off-axis angle and background rate; :func:`completeness_summary`
gives the recovered fractions with binomial errors per case.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.io.eventset import EventSet
from serendip.io.tables import read_table, write_table
from serendip.layout import RunLayout

#: transient kinds injected by default
COMPLETENESS_KINDS = ("flare", "fxt")
#: expected counts of the injected transients (the curve's x axis)
DEFAULT_COUNTS = (10.0, 20.0, 40.0, 80.0, 160.0)
#: durations [s] per kind: flare e-folding decay, FXT spike length
DEFAULT_DURATIONS = {"flare": (300.0, 3000.0), "fxt": (30.0, 300.0), "stellar_flare": (5000.0,)}
_DURATION_PARAM = {"flare": "decay", "stellar_flare": "decay", "fxt": "duration"}
_OFFAXIS = ("theta", "off_axis", "offaxis")


def _merge(old: EventSet, add_file: np.ndarray, add_t: np.ndarray, add_e: np.ndarray) -> EventSet:
    from serendip.simulate._kernels import group_time_order

    f = np.concatenate([old.file_index, add_file])
    t = np.concatenate([old.time, add_t])
    e = np.concatenate([old.energy, add_e.astype(np.float32)])
    order = group_time_order(f, t, old.n_files)
    offsets = np.zeros(old.n_files + 1, np.int64)
    np.cumsum(np.bincount(f, minlength=old.n_files), out=offsets[1:])
    return EventSet(old.obsreg_id.copy(), offsets, t[order], e[order])


def _in_gtis(ids: np.ndarray, file_of: np.ndarray, t: np.ndarray, gtis: pd.DataFrame | None):
    """Mask of times inside their file's good-time intervals (all True without GTIs)."""
    keep = np.ones(len(t), bool)
    if gtis is None or not len(gtis) or not len(t):
        return keep
    g = gtis.assign(obsreg_id=gtis["obsreg_id"].astype(str))
    for k, oid in enumerate(ids):
        rows = g[g["obsreg_id"] == oid]
        if not len(rows):
            continue
        m = file_of == k
        tt = t[m]
        inside = np.zeros(len(tt), bool)
        for a, b in zip(rows["start"].to_numpy(float), rows["stop"].to_numpy(float), strict=True):
            inside |= (tt >= a) & (tt < b)
        keep[m] = inside
    return keep


def _host_column(files: pd.DataFrame, truth: pd.DataFrame | None, names) -> np.ndarray:
    for df in (files, truth):
        if df is None:
            continue
        low = {c.lower(): c for c in df.columns}
        c = next((low[n] for n in names if n in low), None)
        if c is not None:
            return pd.to_numeric(df[c], errors="coerce").to_numpy(np.float64)
    return np.full(len(files), np.nan)


def completeness(
    run_dir: str | Path,
    *,
    n_per_cell: int = 4,
    kinds: tuple[str, ...] = COMPLETENESS_KINDS,
    counts: tuple[float, ...] = DEFAULT_COUNTS,
    durations: dict[str, tuple[float, ...]] | None = None,
    top_fraction: float = 0.02,
    batch_fraction: float = 0.01,
    seed: int = 0,
    write: bool = True,
    progress=None,
) -> pd.DataFrame:
    """Inject transients into the sources of the finished run ``run_dir`` and re-score them
    with the run's settings (see the module docstring). Returns the per-injection table
    (``kind``, ``duration`` [s], ``counts``, ``n_added``, ``host``, ``host_counts``,
    ``host_exposure`` [s], ``host_offaxis`` [arcmin], ``host_bkg_rate`` [ct/s], ``rank``,
    ``anomaly_rank``, ``top_k``, ``recovered``, ``recovered_anomaly``, ``batch``); with
    ``write`` also ``completeness.parquet`` and ``completeness.png`` in ``run_dir``.
    ``progress``: optional callable(done, total) after each batch.
    """
    from serendip.features import extract_features
    from serendip.pipeline.config import load_config
    from serendip.pipeline.ranking import rank_features
    from serendip.represent import event_features
    from serendip.simulate.inject import inject_transients

    lay = RunLayout(run_dir)
    if not lay.config.is_file() or not lay.candidates.is_file():
        raise InputError(run_dir, "not a finished run (needs config.toml and candidates.parquet)")
    cfg = load_config(lay.config)
    if cfg["input"].get("lightcurves"):
        raise InputError(run_dir, "completeness injects photons: event-file runs only")
    if n_per_cell < 1 or not 0 < top_fraction < 1 or not 0 < batch_fraction <= 0.5:
        raise ValueError("need n_per_cell >= 1, 0 < top_fraction < 1, 0 < batch_fraction <= 0.5")
    durations = {k: tuple(durations.get(k, DEFAULT_DURATIONS[k])) if durations else
                 DEFAULT_DURATIONS[k] for k in kinds}
    files = read_table(lay.files)
    ids = files["obsreg_id"].astype(str).to_numpy()
    events = EventSet.read(lay.events, order=ids.tolist())
    gtis = read_table(lay.gtis) if lay.gtis.is_file() else None
    table = read_table(lay.event_features)
    table = table.assign(obsreg_id=table["obsreg_id"].astype(str)).set_index("obsreg_id").reindex(ids)
    feat = read_table(lay.features)
    feat = feat.assign(obsreg_id=feat["obsreg_id"].astype(str)).set_index("obsreg_id").reindex(ids)
    X0 = feat.to_numpy(np.float64)
    known = read_table(lay.known)
    clusters = read_table(lay.clusters).set_index("obsreg_id")["cluster"]
    clusters = clusters.set_axis(clusters.index.astype(str)).reindex(ids).fillna(0).astype(int)
    emb = read_table(lay.embedding)
    emb = emb.assign(obsreg_id=emb["obsreg_id"].astype(str)).set_index("obsreg_id").reindex(ids)
    extra0 = None
    if lay.map_scores.is_file():
        ms = read_table(lay.map_scores)
        ms = ms.assign(obsreg_id=ms["obsreg_id"].astype(str)).set_index("obsreg_id").reindex(ids)
        extra0 = {c: ms[c].to_numpy(np.float64) for c in ms.columns}
    artefacts = read_table(lay.artefacts) if lay.artefacts.is_file() else None
    truth = read_table(lay.sources) if lay.sources.is_file() else None
    if truth is not None:
        truth = truth.assign(obsreg_id=truth["obsreg_id"].astype(str)).set_index(
            "obsreg_id").reindex(ids).reset_index()
    model = lay.feature_model if lay.feature_model.is_file() else None
    fc, kc = cfg["features"], cfg["candidates"]

    n = len(ids)
    top_k = max(1, math.ceil(top_fraction * n))
    cands = read_table(lay.candidates)
    in_top = set(cands.sort_values("rank")["obsreg_id"].astype(str).head(top_k))
    is_known = set(known["obsreg_id"].astype(str))
    expo = pd.to_numeric(files.get("exposure", files["tstop"] - files["tstart"]),
                         errors="coerce").to_numpy(np.float64)
    eligible = np.array([i not in in_top and i not in is_known for i in ids]) & np.isfinite(expo)
    cells = [(k, d, c) for k in kinds for d in durations[k] for c in counts]
    plan = [cell for cell in cells for _ in range(int(n_per_cell))]
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 16, 5]))
    plan = [plan[i] for i in rng.permutation(len(plan))]
    batch = max(1, int(batch_fraction * n))
    offaxis = _host_column(files, truth, _OFFAXIS)
    bkg = _host_column(files, truth, ("bkg_rate", "background_rate"))
    rows = []
    n_batches = math.ceil(len(plan) / batch)
    for b in range(n_batches):
        part = plan[b * batch:(b + 1) * batch]
        need = np.array([3.0 * d for _, d, _ in part])
        hosts = np.full(len(part), -1, np.int64)
        free = np.flatnonzero(eligible)
        for j in rng.permutation(len(part)):  # a host per injection, long enough, no repeats
            ok = free[expo[free] > need[j]]
            ok = ok[~np.isin(ok, hosts)]
            if len(ok):
                hosts[j] = rng.choice(ok)
        keep = hosts >= 0
        part = [p for p, k_ in zip(part, keep, strict=True) if k_]
        hosts = hosts[keep]
        if not len(hosts):
            continue
        sub = events.select(hosts)
        empty = EventSet(sub.obsreg_id.copy(), np.zeros(len(hosts) + 1, np.int64),
                         np.zeros(0), np.zeros(0, np.float32))
        add_f, add_t, add_e = [], [], []
        n_added = np.zeros(len(hosts), np.int64)
        fsub = files.iloc[hosts]
        for kind in sorted({p[0] for p in part}):
            sel = np.flatnonzero([p[0] == kind for p in part])
            dur = np.array([part[j][1] for j in sel])
            cnt = np.array([part[j][2] for j in sel])
            e1 = empty.select(sel)
            new, _ = inject_transients(e1, fsub.iloc[sel], np.arange(len(sel)), kind, cnt,
                                       seed=int(seed) * 7919 + b, frame_time=None,
                                       **{_DURATION_PARAM[kind]: dur})
            f_of = sel[new.file_index]
            ok = _in_gtis(ids[hosts], f_of, new.time, gtis)
            add_f.append(f_of[ok]), add_t.append(new.time[ok]), add_e.append(new.energy[ok])
            n_added += np.bincount(f_of[ok], minlength=len(hosts))
        sub_new = _merge(sub, np.concatenate(add_f), np.concatenate(add_t), np.concatenate(add_e))
        gsub = None
        if gtis is not None:
            gsub = gtis[gtis["obsreg_id"].astype(str).isin(set(ids[hosts]))]
        tsub = event_features(sub_new, fsub, gsub)
        tsub = tsub.assign(obsreg_id=tsub["obsreg_id"].astype(str)).set_index("obsreg_id")
        res = extract_features(fc["case"], events=sub_new, event_table=tsub.reset_index(),
                               files=fsub, seed=int(cfg["input"]["seed"]), gtis=gsub,
                               maps=fc["maps"], model=model, progress=False,
                               n_components=int(fc["n_components"]) or None)
        tab = table.copy()
        tab.loc[ids[hosts], tsub.columns] = tsub.loc[ids[hosts]].to_numpy()
        X = X0.copy()
        X[hosts] = np.asarray(res.features, np.float64)
        extra = None
        if extra0 is not None:
            extra = {c: v.copy() for c, v in extra0.items()}
            for c, v in (res.scores or {}).items():
                if c in extra:
                    extra[c][hosts] = v
        ranked = rank_features(
            ids, X, tab.reset_index(), known, clusters=clusters.to_numpy(),
            embedding=emb[["x", "y"]].to_numpy(), anomaly=kc["anomaly"],
            k=int(kc["k_neighbours"]), nn_span=float(kc["nn_span"]),
            n_estimators=int(kc["n_estimators"]), random_state=int(kc["random_state"]),
            files=files, artefacts=artefacts, events=None, background=None, gtis=gtis,
            case=fc["case"], extra_scores=extra,
        )
        ranked = ranked.assign(obsreg_id=ranked["obsreg_id"].astype(str)).set_index("obsreg_id")
        a = ranked["anomaly_score"].to_numpy(np.float64)
        arank = pd.Series((-a).argsort(kind="stable").argsort() + 1, index=ranked.index)
        for j, (kind, dur, cnt) in enumerate(part):
            h = ids[hosts[j]]
            rows.append({
                "kind": kind, "duration": float(dur), "counts": float(cnt),
                "n_added": int(n_added[j]), "host": h,
                "host_counts": int(events.counts[hosts[j]]), "host_exposure": float(expo[hosts[j]]),
                "host_offaxis": float(offaxis[hosts[j]]), "host_bkg_rate": float(bkg[hosts[j]]),
                "rank": int(ranked.loc[h, "rank"]), "anomaly_rank": int(arank[h]),
                "top_k": top_k, "n_sources": n, "batch": b,
            })
        if progress is not None:
            progress(b + 1, n_batches)
    out = pd.DataFrame(rows)
    if len(out):
        out["recovered"] = out["rank"] <= out["top_k"]
        out["recovered_anomaly"] = out["anomaly_rank"] <= out["top_k"]
    out.attrs.update({"case": fc["case"], "top_fraction": top_fraction, "n_sources": n})
    if len(out) < len(plan):
        from serendip.notices import notice

        notice("completeness", "no_host", f"{len(plan) - len(out)} of {len(plan)} injections "
               "found no host (exposure too short, or all hosts taken)",
               count=len(plan) - len(out), total=len(plan))
    if write:
        write_table(out, lay.completeness)
        from serendip.report.completeness import completeness_figure, png_bytes

        fig = completeness_figure(completeness_summary(out), case=fc["case"], top_k=top_k, n=n)
        from serendip.io.atomic import atomic_path

        with atomic_path(lay.completeness_plot) as tmp:
            Path(tmp).write_bytes(png_bytes(fig))
    return out


def completeness_summary(table: pd.DataFrame, by=("kind", "duration", "counts")) -> pd.DataFrame:
    """Recovered fractions per case: ``n``, ``recovered`` (final score) and
    ``recovered_anomaly`` (anomaly score alone) with their binomial 1-sigma errors."""
    from serendip.report.completeness import summarise

    return summarise(table, by)


def update_report(run_dir: str | Path) -> Path | None:
    """Write the run's ``report.html`` again (it then shows the completeness section); None
    when the run has no report yet."""
    import json

    from serendip.pipeline.config import load_config
    from serendip.report import write_report

    lay = RunLayout(run_dir)
    if not lay.report.is_file() or not lay.cluster_summary.is_file():
        return None
    cfg = load_config(lay.config)
    stages = json.loads(lay.run_json.read_text()) if lay.run_json.is_file() else {}
    settings = {"config": cfg, "stages": {k: {"key": v.get("key"), "seconds": v.get("seconds")}
                                          for k, v in stages.items()}}
    return Path(write_report(run_dir, settings=settings,
                             cluster_table=read_table(lay.cluster_summary),
                             n_top=int(cfg["report"]["n_top"])))
