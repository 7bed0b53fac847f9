"""Figures of the report and galleries (matplotlib, Agg backend, never shown on screen).

Every function draws into a new figure and returns it; :func:`png_bytes` renders and
closes it. Figure sizes and dpi are small so a report of 10^5 files stays fast: the
embedding scatters are rasterised and drawn in one call per colour group.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from serendip.io.eventset import EventSet  # noqa: E402

E_MIN, E_MAX = 500.0, 7000.0  # eV, the E-t map band
DPI = 80


def png_bytes(fig) -> bytes:
    """Render ``fig`` to PNG bytes and close it.

    One draw: ``bbox_inches="tight"`` drew every figure twice (measured 1.9x the time); the
    figures leave their own margins instead.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    return buf.getvalue()


def _point_size(n: int) -> float:
    return float(np.clip(20000.0 / max(n, 1), 0.5, 15.0))


def embedding_by_category(
    xy: np.ndarray, labels: np.ndarray, title: str, noise_label=None, max_legend: int = 20
):
    """Scatter of the embedding (n, 2) coloured by a categorical label per point.

    Categories are coloured by size (tab20, cycling); the noise label is light grey and
    drawn underneath. Two scatter calls in all, so thousands of clusters stay fast.
    """
    from matplotlib.lines import Line2D

    labels = np.asarray(labels)
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    s = _point_size(len(xy))
    cats, inv, counts = np.unique(labels, return_inverse=True, return_counts=True)
    is_noise = (cats == noise_label) if noise_label is not None else np.zeros(len(cats), bool)
    order = np.lexsort((np.arange(len(cats)), -counts))
    order = order[~is_noise[order]]
    colour_of = np.zeros(len(cats), dtype=np.int64)
    colour_of[order] = np.arange(len(order)) % 20
    cmap = plt.get_cmap("tab20")
    point_noise = is_noise[inv]
    handles = []
    if point_noise.any():
        ax.scatter(
            xy[point_noise, 0],
            xy[point_noise, 1],
            s=s,
            color="0.82",
            lw=0,
            rasterized=True,
            zorder=0,
        )
        handles.append(
            Line2D(
                [], [], ls="", marker="o", color="0.7", label=f"noise ({int(point_noise.sum())})"
            )
        )
    m = ~point_noise
    ax.scatter(xy[m, 0], xy[m, 1], s=s, c=cmap(colour_of[inv[m]]), lw=0, rasterized=True, zorder=1)
    for ci in order[:max_legend]:
        handles.append(
            Line2D(
                [],
                [],
                ls="",
                marker="o",
                color=cmap(colour_of[ci]),
                label=f"{cats[ci]} ({counts[ci]})",
            )
        )
    if len(order) > max_legend:
        handles.append(Line2D([], [], ls="", label=f"... {len(order) - max_legend} more"))
    ax.set_xlabel("embedding 1")
    ax.set_ylabel("embedding 2")
    ax.set_title(title)
    ax.legend(
        handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, frameon=False
    )
    return fig


def embedding_by_known(
    xy: np.ndarray, known_type: np.ndarray, title: str = "Embedding: known transients"
):
    """All files in grey, known transients on top as large markers coloured by type."""
    kt = np.asarray(known_type, dtype=object)
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        s=_point_size(len(xy)),
        color="0.8",
        lw=0,
        rasterized=True,
        label="other files",
    )
    cmap = plt.get_cmap("tab10")
    markers = "o^sDvP*X"
    for j, t in enumerate(sorted(set(kt[kt != ""]))):
        m = kt == t
        ax.scatter(
            xy[m, 0],
            xy[m, 1],
            s=28,
            color=cmap(j % 10),
            marker=markers[j % len(markers)],
            edgecolor="k",
            lw=0.5,
            label=f"known {t} ({int(m.sum())})",
            zorder=3,
        )
    ax.set_xlabel("embedding 1")
    ax.set_ylabel("embedding 2")
    ax.set_title(title)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, frameon=False)
    return fig


def embedding_by_score(
    xy: np.ndarray, score: np.ndarray, title: str = "Embedding: candidate score", top_n: int = 0
):
    """Scatter coloured by a continuous score (highest drawn last); the ``top_n`` ringed."""
    score = np.asarray(score, dtype=np.float64)
    order = np.argsort(score, kind="stable")
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    sc = ax.scatter(
        xy[order, 0],
        xy[order, 1],
        c=score[order],
        s=_point_size(len(xy)),
        cmap="viridis",
        lw=0,
        rasterized=True,
        vmin=np.quantile(score, 0.5) if len(score) > 10 else None,
    )
    if top_n:
        top = order[-top_n:]
        ax.scatter(
            xy[top, 0],
            xy[top, 1],
            s=40,
            facecolor="none",
            edgecolor="red",
            lw=1.0,
            label=f"top {top_n} candidates",
            zorder=3,
        )
        ax.legend(loc="best", fontsize=7)
    fig.colorbar(sc, ax=ax, label="score")
    ax.set_xlabel("embedding 1")
    ax.set_ylabel("embedding 2")
    ax.set_title(title)
    return fig


def et_map_of(
    time: np.ndarray, energy: np.ndarray, t_bins: int = 24, e_bins: int = 16
) -> np.ndarray:
    """E-t map (t_bins, e_bins) counts of one file via :func:`serendip.represent.et_maps`."""
    from serendip.represent import et_maps

    ev = EventSet(np.asarray(["x"], dtype=object), np.asarray([0, len(time)]), time, energy)
    return et_maps(ev, t_bins=t_bins, e_bins=e_bins)[0]


def draw_et_map(ax, time: np.ndarray, energy: np.ndarray, title: str = "") -> None:
    """E-t map: time (relative, 0-1) horizontally, log10 energy vertically, counts coloured."""
    h = et_map_of(time, energy)
    im = ax.imshow(
        h.T,
        origin="lower",
        aspect="auto",
        cmap="viridis",  # as the explorer app and report.html
        extent=(0, 1, np.log10(E_MIN / 1000.0), np.log10(E_MAX / 1000.0)),
    )
    ax.set_xlabel("time (relative)")
    ax.set_ylabel("log10 E [keV]")
    if title:
        ax.set_title(title, fontsize=8)
    plt.colorbar(im, ax=ax, fraction=0.05, pad=0.02, label="counts")


def draw_lightcurve(
    ax_rate, ax_hr, time: np.ndarray, energy: np.ndarray, n_bins: int | None = None
) -> None:
    """Binned rate [counts/s] with errors and hardness ratio (H-S)/(H+S) below it."""
    from serendip.represent import binned_lightcurve

    if len(time) == 0:
        ax_rate.text(0.5, 0.5, "no events", ha="center", va="center", transform=ax_rate.transAxes)
        return
    if n_bins is None:
        n_bins = int(np.clip(len(time) // 15, 4, 40))
    lc = binned_lightcurve(time, energy, n_bins=n_bins)
    t = (lc["t_mid"] - time[0]) / 1000.0
    ax_rate.errorbar(
        t,
        lc["rate"],
        yerr=lc["rate_err"],
        xerr=lc["t_width"] / 2000.0,
        fmt=".",
        ms=3,
        color="C0",
        lw=0.8,
    )
    ax_rate.set_ylabel("rate [ct/s]")
    ax_rate.tick_params(labelbottom=False)
    ax_hr.plot(t, lc["hr"], ".-", ms=3, lw=0.8, color="C3")
    ax_hr.axhline(0, color="0.6", lw=0.5)
    ax_hr.set_ylim(-1.05, 1.05)
    ax_hr.set_ylabel("HR")
    ax_hr.set_xlabel("time since first event [ks]")


def _panel_into(
    fig, time: np.ndarray, energy: np.ndarray, title: str, map_xlabel: bool = True
) -> None:
    gs = fig.add_gridspec(
        2,
        2,
        width_ratios=(1.0, 1.5),
        height_ratios=(2, 1),
        hspace=0.08,
        wspace=0.5,
        left=0.1,
        right=0.97,
        top=0.88,
        bottom=0.2,
    )
    ax_map = fig.add_subplot(gs[:, 0])
    draw_et_map(ax_map, time, energy)
    if not map_xlabel:
        ax_map.set_xlabel("")
    ax_rate = fig.add_subplot(gs[0, 1])
    draw_lightcurve(ax_rate, fig.add_subplot(gs[1, 1], sharex=ax_rate), time, energy)
    fig.suptitle(title, fontsize=9, x=0.02, ha="left")


def file_panel(time: np.ndarray, energy: np.ndarray, title: str):
    """One file: E-t map (left) and light curve with hardness ratio (right)."""
    fig = plt.figure(figsize=(8.0, 2.9))
    _panel_into(fig, time, energy, title)
    return fig


def files_grid(events: EventSet, rows: list[tuple[int, str]], title: str, ncols: int = 6):
    """Thumbnails of E-t maps of several files of ``events`` (index, caption) in one figure."""
    n = max(len(rows), 1)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.9 * ncols, 1.7 * nrows + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, (i, caption) in zip(axes.ravel(), rows, strict=False):
        t, e = events.events_of(i)
        h = et_map_of(t, e)
        ax.imshow(h.T, origin="lower", aspect="auto", cmap="viridis")
        ax.set_title(caption, fontsize=6)
    fig.suptitle(title, fontsize=9, y=1.0 + 0.08 / nrows)
    return fig


def class_gallery_figure(events: EventSet, index: list[int], captions: list[str], title: str):
    """Rows of (E-t map | light curve + hardness ratio) for several files of one class."""
    n = max(len(index), 1)
    fig = plt.figure(figsize=(8.0, 2.9 * n + 0.4))
    subs = np.atleast_1d(fig.subfigures(n, 1, hspace=0.04))
    for sub, i, cap in zip(subs, index, captions, strict=False):
        t, e = events.events_of(i)
        _panel_into(sub, t, e, cap)
    fig.suptitle(title, fontsize=12, y=1.0)
    return fig


def as_frame_xy(candidates: pd.DataFrame) -> np.ndarray | None:
    """The (n, 2) embedding coordinates stored in a candidate table, or None."""
    if {"emb_x", "emb_y"} <= set(candidates.columns):
        return candidates[["emb_x", "emb_y"]].to_numpy(dtype=np.float64)
    return None
