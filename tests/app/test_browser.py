"""Browser tests of the ``serendip explore`` page: Debian's chromium, headless, driven by Playwright.

One browser for the module. The first test (no labels written) uses ``classified_run`` (the small
simulated run plus classification results); the labelling test uses ``fresh_run`` (the run linked
into a new directory, so its labels never reach other tests). Screenshots of every view go to
``$SERENDIP_TEST_ARTIFACTS/explore/`` (default ``<repo>/test-artifacts/explore/``).

Budget: about 30-50 s on the 2-core machine, most of it the session's ``explore_run`` build and
Plotly's parse in software-rendered chromium.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY_TIMEOUT_MS = 90_000
REPO = Path(__file__).resolve().parents[2]


def artifact_dir() -> Path:
    base = os.environ.get("SERENDIP_TEST_ARTIFACTS")
    out = (Path(base) if base else REPO / "test-artifacts") / "explore"
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        msg = f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    # a laptop screen: every view must read at 1366x768
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.errors = errors
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def open_page(pg, url: str) -> None:
    pg.goto(url)
    pg.wait_for_function("document.body.dataset.ready !== undefined", timeout=READY_TIMEOUT_MS)
    ready = pg.evaluate("document.body.dataset.ready")
    assert ready == "1", f"page failed to load: {pg.inner_text('#status')}"


def shot(pg, name: str) -> None:
    pg.screenshot(path=str(artifact_dir() / f"{name}.png"), full_page=True)


def plot_geometry(pg) -> dict:
    """Plot area of the embedding in page pixels and its axis ranges (data units)."""
    return pg.evaluate(
        """() => { const gd = document.getElementById('embed-plot'); const fl = gd._fullLayout;
        const r = gd.getBoundingClientRect();
        return {left: r.left + fl._size.l, top: r.top + fl._size.t, w: fl._size.w, h: fl._size.h,
                x0: fl.xaxis.range[0], x1: fl.xaxis.range[1], y0: fl.yaxis.range[0], y1: fl.yaxis.range[1]}; }"""
    )


def to_px(g: dict, x, y):
    px = g["left"] + (np.asarray(x) - g["x0"]) / (g["x1"] - g["x0"]) * g["w"]
    py = g["top"] + (g["y1"] - np.asarray(y)) / (g["y1"] - g["y0"]) * g["h"]
    return px, py


def test_embedding_selection_source_view_export_catalogue(
    browser, page, classified_run, start_server, tmp_path
):
    from astropy.table import Table

    server = start_server(classified_run)  # pipeline + classification results (kind "both")
    meta = httpx.get(f"{server.url}/api/meta").json()
    pts = httpx.get(f"{server.url}/api/points").json()
    n = meta["n_sources"]
    open_page(page, server.url)
    # the embedding was first drawn on a canvas (before Plotly loaded), then replaced by WebGL
    assert page.evaluate("document.body.dataset.shown") == "1"
    timing = page.evaluate("window.serendipTiming")
    assert timing["shown"] < timing["plotly_loaded"] <= timing["ready"]
    assert page.locator("[data-testid=embed-preview]").count() == 0

    # noise is grey and every cluster has its own colour (none repeats), named in the legend
    page.select_option("[data-testid=colour-by]", "cluster")
    colours = page.evaluate("document.getElementById('embed-plot').data[0].marker.color")
    by_cluster = {}
    for c, col in zip(pts["cluster"], colours, strict=True):
        by_cluster.setdefault(c, set()).add(col)
    assert all(len(v) == 1 for v in by_cluster.values())
    if 0 in by_cluster:
        assert by_cluster[0] == {"#bbbbbb"}
        assert "noise (0)" in page.inner_text("[data-testid=colour-legend]")
    real = [next(iter(v)) for c, v in by_cluster.items() if c not in (0, -1)]
    assert len(set(real)) == len(real)
    # the simulation's truth is hidden while labelling unless asked for
    options = page.eval_on_selector_all("#colour-by option", "els => els.map(e => e.value)")
    truth_cols = set(meta["truth_columns"])
    assert truth_cols and not truth_cols & set(options)
    page.check("[data-testid=show-truth]")
    options = page.eval_on_selector_all("#colour-by option", "els => els.map(e => e.value)")
    assert truth_cols & set(options)
    page.uncheck("[data-testid=show-truth]")

    # the embedding has every source in one WebGL trace, known transients outlined in a second
    traces = page.evaluate(
        "document.getElementById('embed-plot').data.map(t => [t.type, t.x.length])"
    )
    assert traces[0] == ["scattergl", n]
    n_known = sum(k is not None and k != "" for k in pts["known_type"])
    assert n_known > 0 and traces[1] == ["scattergl", n_known]
    assert page.locator("#embed-plot canvas").count() > 0
    shot(page, "1-embedding")

    # colour by a numeric column: the marker colours become that column, with a colour bar
    page.select_option("[data-testid=colour-by]", "score")
    marker = page.evaluate(
        "(() => { const m = document.getElementById('embed-plot').data[0].marker;"
        " return [m.color.length, m.showscale, m.color[0]]; })()"
    )
    assert marker[0] == n and marker[1] is True
    assert marker[2] == pytest.approx(pts["score"][0])

    # click the most isolated point (in pixels): the source view opens with its E-t map
    g = plot_geometry(page)
    px, py = to_px(g, pts["x"], pts["y"])
    d2 = (px[:, None] - px[None, :]) ** 2 + (py[:, None] - py[None, :]) ** 2
    np.fill_diagonal(d2, np.inf)
    i = int(np.argmax(d2.min(axis=1)))
    page.mouse.click(float(px[i]), float(py[i]))
    want = pts["obsreg_id"][i]
    page.wait_for_function(f"document.body.dataset.sourceReady === {want!r}", timeout=20_000)
    assert page.inner_text("[data-testid=source-id]") == want
    src = httpx.get(f"{server.url}/api/source/{want}").json()
    heat = page.evaluate(
        "(() => { const t = document.getElementById('et-map').data[0];"
        " return [t.type, t.z.length, t.z[0].length]; })()"
    )
    z = np.asarray(src["et_map"]["z"])
    assert heat == ["heatmap", z.shape[0], z.shape[1]]
    assert page.evaluate("document.getElementById('lightcurve').data.length") == 2
    assert page.locator("[data-testid=neighbour-card]").count() == len(src["neighbours"]) > 0
    page.wait_for_selector("[data-testid=neighbour-thumb]")  # canvases, from one request
    # the spectrum panel: the served counts per keV over 0.5-7 keV, on a log axis
    spec = page.evaluate(
        "(() => { const gd = document.getElementById('spectrum');"
        " return [gd.data[0].y, gd.layout.yaxis.type]; })()"
    )
    want_spec = src["spectrum"]["per_kev"]
    assert spec[1] == "log" and len(spec[0]) == len(want_spec)
    for got_v, want_v in zip(spec[0], want_spec, strict=True):  # empty bins left out on log axes
        assert (got_v is None and want_v == 0) or got_v == pytest.approx(want_v)
    # the sky image: a heatmap of the events, or a panel saying why there is none
    if src.get("image"):
        assert page.evaluate("document.getElementById('sky-image').data[0].type") == "heatmap"
    else:
        assert "no sky image" in page.inner_text("[data-testid=sky-image]")
    # the score breakdown names every term with its value; exact numbers carry units
    terms = page.inner_text("[data-testid=score-terms]")
    assert src["score_terms"] and all(t["term"] in terms for t in src["score_terms"])
    props = page.inner_text("[data-testid=props-table]")
    assert "s mission time (" in props and "keV" in page.inner_text("[data-testid=features-table]")
    # the source's events download as CSV: one row per event of the source
    with page.expect_download() as info:
        page.click("[data-testid=events-csv]")
    ev = Table.read(info.value.path(), format="ascii.ecsv")
    assert len(ev) == sum(src["lightcurve"]["counts"]) and set(ev["obsreg_id"]) == {want}
    shot(page, "2-source")

    # find analogs: the k neighbours (and the query) are highlighted in the embedding
    page.fill("#analog-k", "6")
    page.click("[data-testid=find-analogs]")
    page.wait_for_function(
        "document.getElementById('embed-plot').data[2].x.length === 7", timeout=10_000
    )
    assert page.inner_text("[data-testid=selection-count]") == "6"

    # a box selection drawn with the mouse selects exactly the points inside the box
    page.click("[data-testid=clear-selection]")
    assert page.inner_text("[data-testid=selection-count]") == "0"
    page.click("#embed-plot .modebar-btn[data-val='select']")
    x_lo, x_hi = g["left"] + 0.25 * g["w"], g["left"] + 0.6 * g["w"]
    y_lo, y_hi = g["top"] + 0.3 * g["h"], g["top"] + 0.75 * g["h"]
    page.mouse.move(x_lo, y_lo)
    page.mouse.down()
    page.mouse.move(x_hi, y_hi, steps=10)
    page.mouse.up()
    ids = np.asarray(pts["obsreg_id"])

    def in_box(margin: float) -> set[str]:  # margin > 0 shrinks the box (pixels)
        m = (
            (px > x_lo + margin)
            & (px < x_hi - margin)
            & (py > y_lo + margin)
            & (py < y_hi - margin)
        )
        return set(ids[m].tolist())

    surely, maybe = in_box(2.0), in_box(-2.0)  # points within 2 px of an edge may go either way
    assert len(surely) > 5
    page.wait_for_function(
        "Number(document.getElementById('selection-count').textContent) > 0", timeout=10_000
    )
    selected = set(page.evaluate("window.serendip.state.selected"))
    assert surely <= selected <= maybe
    assert page.inner_text("[data-testid=selection-count]") == str(len(selected))
    assert page.locator("#selection-table tbody tr").count() == min(len(selected), 300)
    expected = selected
    shot(page, "3-selection")

    # export the selection in each format: the downloaded file parses with astropy, same ids
    page.click("[data-testid=tab-export]")
    for fmt, ext, astropy_format in [
        ("csv", "csv", "ascii.ecsv"),
        ("votable", "vot", "votable"),
        ("fits", "fits", "fits"),
    ]:
        page.select_option("[data-testid=export-format]", fmt)
        with page.expect_download() as info:
            page.click("[data-testid=export-selection]")
        download = info.value
        assert download.suggested_filename == f"serendip-selection.{ext}"
        path = tmp_path / download.suggested_filename
        download.save_as(path)
        table = Table.read(path, format=astropy_format)
        assert {str(v).strip() for v in table["obsreg_id"]} == expected, fmt
    shot(page, "4-export")

    # catalogue view (the run has classification results): one trace per class, filters apply
    cat = httpx.get(f"{server.url}/api/catalog").json()
    options = page.eval_on_selector_all("#colour-by option", "els => els.map(e => e.value)")
    assert any(o.startswith("p_") for o in options)  # class probabilities colour the embedding
    page.click("[data-testid=tab-catalog]")
    page.wait_for_function("document.getElementById('cat-plot').data !== undefined")
    traces = page.evaluate(
        "document.getElementById('cat-plot').data.map(t => [t.name, t.x.length])"
    )
    counts = {c: cat["columns"]["class"].count(c) for c in set(cat["columns"]["class"])}
    assert {name.split(" (")[0]: n for name, n in traces} == counts
    assert page.inner_text("[data-testid=cat-count]") == f"{cat['n']} sources"
    page.fill("[data-testid=cat-min-prob]", "0.6")
    page.click("[data-testid=cat-apply]")
    n_kept = sum(p is not None and p >= 0.6 for p in cat["columns"]["p_class"])
    assert 0 < n_kept < cat["n"]
    page.wait_for_function(
        f"document.getElementById('cat-count').textContent === '{n_kept} sources'",
        timeout=10_000,
    )
    # class probabilities as bars, one per p_* cell, as long as the probability
    n_rows = page.locator("#cat-table tbody tr").count()
    n_prob = sum(c.startswith("p_") for c in cat["columns"])
    assert page.locator("[data-testid=prob-bar]").count() >= n_rows * (n_prob - 1) > 0
    widths = page.evaluate(
        "[...document.querySelectorAll('#cat-table tbody tr:first-child [data-testid=prob-bar]')]"
        ".map(b => [parseFloat(b.style.width), parseFloat(b.parentElement.textContent)])"
    )
    for w, p in widths:
        assert w == pytest.approx(60 * p, abs=0.6)
    shot(page, "5-catalogue")

    # search by position: the source at those coordinates is found and opened from the list
    sid = pts["obsreg_id"][3]
    cand = httpx.get(f"{server.url}/api/source/{sid}").json()["position"]
    page.fill("[data-testid=search-q]", f"{cand['ra']:.6f} {cand['dec']:.6f}")
    page.fill("[data-testid=search-radius]", "1")
    page.click("[data-testid=search-go]")
    page.wait_for_selector("[data-testid=search-hit]")
    assert page.locator("[data-testid=search-hit]").first.get_attribute("data-id") == sid
    page.locator("[data-testid=search-hit]").first.click()
    page.wait_for_function(f"document.body.dataset.sourceReady === {sid!r}", timeout=20_000)
    # search by id opens the source directly; the URL is its deep link
    other = pts["obsreg_id"][11]
    page.fill("[data-testid=search-q]", other)
    page.click("[data-testid=search-go]")
    page.wait_for_function(f"document.body.dataset.sourceReady === {other!r}", timeout=20_000)
    assert page.url.endswith(f"/source/{other}")
    links = page.eval_on_selector_all("#source-links a", "els => els.map(e => e.textContent)")
    assert {"SIMBAD", "NED", "Chandra archive"} <= set(links)
    assert "t = 0 at" in page.inner_text("[data-testid=time-zero]")

    # rebinning: fewer, wider bins; the counts are conserved (rate x good time summed)
    def lc_state():
        return page.evaluate(
            "(() => { const t = document.getElementById('lightcurve').data[0];"
            " const w = 2 * t.error_x.value; return [t.x.length, w,"
            " t.y.reduce((a, r) => a + (r || 0) * w, 0)]; })()"
        )

    n0, w0, c0 = lc_state()
    page.select_option("[data-testid=lc-rebin]", "256")  # one bin of the whole observation
    page.wait_for_function("document.getElementById('lightcurve').data[0].x.length === 1")
    n1, w1, c1 = lc_state()
    assert n1 == 1 and w1 == pytest.approx(n0 * w0) and c1 == pytest.approx(c0, rel=1e-9)
    page.select_option("[data-testid=lc-rebin]", "1")
    page.wait_for_function("document.getElementById('lightcurve').data[0].x.length === 256")
    page.check("[data-testid=lc-log]")
    assert page.evaluate("document.getElementById('lightcurve').layout.yaxis.type") == "log"
    # the deep link survives a reload: the same source opens on a cold page
    page.reload()
    page.wait_for_function(f"document.body.dataset.sourceReady === {other!r}", timeout=60_000)
    assert page.inner_text("[data-testid=source-id]") == other

    # the candidate table: sorted by a clicked column, filtered by text and score
    page.click("[data-testid=tab-table]")
    page.wait_for_selector("#cand-table tbody tr")
    page.click("#cand-table th[data-col=score]")
    scores = page.eval_on_selector_all(
        "#cand-table tbody tr", "trs => trs.map(tr => parseFloat(tr.children[2].textContent))"
    )
    assert scores == sorted(scores, reverse=True) and len(scores) == min(n, 300)
    page.fill("[data-testid=tbl-min-score]", "0.9")
    page.fill("[data-testid=tbl-filter]", "cluster 1")
    want = sum(
        s is not None and s >= 0.9 and f"cluster {c}".startswith("cluster 1")
        for s, c in zip(pts["score"], pts["cluster"], strict=True)
    )
    page.wait_for_function(f"document.body.dataset.tableRows === '{want}'", timeout=10_000)
    shot(page, "8-table")


def test_keyboard_labels_survive_restart(browser, page, fresh_run, start_server, tmp_path):
    from astropy.table import Table

    server = start_server(fresh_run)
    open_page(page, server.url)
    page.click("[data-testid=tab-review]")
    page.wait_for_function("document.getElementById('review-id').textContent !== ''")
    first = page.inner_text("[data-testid=review-id]")
    static = httpx.get(f"{server.url}/api/candidates?order=static&limit=3").json()["rows"]
    assert first == static[0]["obsreg_id"]  # static order: the highest score first

    # n focuses the note, Enter leaves it, 1 labels "interesting" and moves on
    page.keyboard.press("n")
    page.keyboard.type("odd dip at 5 ks")
    page.keyboard.press("Enter")
    page.keyboard.press("1")
    page.wait_for_function(
        f"document.body.dataset.lastSaved === {first + ':interesting'!r}", timeout=10_000
    )
    assert "saved" in page.inner_text("[data-testid=saved]")
    second = page.inner_text("[data-testid=review-id]")
    assert second == static[1]["obsreg_id"]
    # k goes back, j forward again; 3 labels the second one an artefact
    page.keyboard.press("k")
    page.wait_for_function(f"document.getElementById('review-id').textContent === {first!r}")
    page.keyboard.press("j")
    page.wait_for_function(f"document.getElementById('review-id').textContent === {second!r}")
    page.keyboard.press("3")
    page.wait_for_function(
        f"document.body.dataset.lastSaved === {second + ':artefact'!r}", timeout=10_000
    )
    # a note without a label is saved on its own (third candidate, shown after the label)
    third = static[2]["obsreg_id"]
    page.wait_for_function(f"document.getElementById('review-id').textContent === {third!r}")
    page.keyboard.press("n")
    page.keyboard.type("check the background")
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"document.body.dataset.lastNote === {third + ':check the background'!r}", timeout=10_000
    )
    notes = httpx.get(f"{server.url}/api/notes").json()["rows"]
    assert {r["obsreg_id"]: r["note"] for r in notes}[third] == "check the background"
    assert third not in {
        r["obsreg_id"] for r in httpx.get(f"{server.url}/api/labels").json()["rows"]
    }
    # label it, then undo (u): the label is gone, the note stays, the counter counts
    page.keyboard.press("2")
    page.wait_for_function(
        f"document.body.dataset.lastSaved === {third + ':not interesting'!r}", timeout=10_000
    )
    assert "3 of 600 sources labelled" in page.inner_text("[data-testid=review-pos]")
    page.keyboard.press("u")
    page.wait_for_function(f"document.body.dataset.lastUndo === {third!r}", timeout=10_000)
    assert page.inner_text("[data-testid=review-id]") == third
    assert "2 of 600 sources labelled" in page.inner_text("[data-testid=review-pos]")
    assert page.input_value("[data-testid=review-note]") == "check the background"
    # r re-ranks: the learning curve has one point per label, with the static curve
    page.keyboard.press("r")
    page.wait_for_function(
        "(() => { const d = document.getElementById('rerank-plot').data;"
        " return d && d.length === 2 && d[0].x.length === 2; })()",
        timeout=30_000,
    )
    assert page.evaluate("document.getElementById('rerank-plot').data[0].y") == [1, 1]
    page.wait_for_function(
        "document.getElementById('status').textContent.startsWith('re-ranked')", timeout=30_000
    )
    assert page.input_value("[data-testid=review-order]") == "active"
    active_first = page.inner_text("[data-testid=review-id]")
    shot(page, "6-review")

    # restart the server on the same run directory: the labels are still there and shown
    server.stop()
    server2 = start_server(fresh_run)
    open_page(page, server2.url)
    page.click("[data-testid=tab-review]")
    page.wait_for_function("document.getElementById('n-labels').textContent === '2'")
    rows = page.evaluate(
        "[...document.querySelectorAll('#labels-table tbody tr')]"
        ".map(tr => [...tr.children].map(td => td.textContent))"
    )
    got = {r[0]: (r[1], r[2]) for r in rows}
    assert got[first] == ("interesting", "odd dip at 5 ks")
    assert got[second][0] == "artefact"
    # labelled candidates are no longer offered for review, and the active-learning order
    # chosen before the restart is restored (same first candidate)
    page.wait_for_function("document.getElementById('review-id').textContent !== ''")
    assert page.input_value("[data-testid=review-order]") == "active"
    assert page.inner_text("[data-testid=review-id]") not in (first, second)
    assert page.inner_text("[data-testid=review-id]") == active_first
    shot(page, "7-review-after-restart")

    # export the labels as FITS
    page.click("[data-testid=tab-export]")
    page.select_option("[data-testid=export-format]", "fits")
    with page.expect_download() as info:
        page.click("[data-testid=export-labels]")
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    table = Table.read(path, format="fits")
    labels = {
        str(i).strip(): "" if np.ma.is_masked(lab) else str(lab).strip()
        for i, lab in zip(table["obsreg_id"], table["label"], strict=True)
    }
    # the labels, and the note given without a label (its label empty)
    assert labels == {first: "interesting", second: "artefact", third: ""}
    notes = dict(zip([str(i).strip() for i in table["obsreg_id"]], table["note"], strict=True))
    assert str(notes[third]).strip() == "check the background"
    assert str(table["ra"].unit) == "deg" and table.meta["SERENDIP"]


def test_screenshots_of_every_tab(browser, page, classified_run, start_server):
    """Every tab at 1366x768, written to test-artifacts/explore/tab-*.png.

    ``SERENDIP_EXPLORE_SCREENSHOT_RUN`` names another run directory (e.g. a 5,000-source
    ``serendip demo``) to shoot instead of the small test run."""
    run = Path(os.environ.get("SERENDIP_EXPLORE_SCREENSHOT_RUN") or classified_run)
    server = start_server(run)
    open_page(page, server.url)
    top = httpx.get(f"{server.url}/api/candidates?order=static&limit=1").json()["rows"][0]
    shots = {}
    for tab in ("embedding", "source", "review", "table", "catalog", "export"):
        button = page.locator(f"[data-testid=tab-{tab}]")
        if not button.is_visible():  # the catalogue tab only for runs with classifications
            continue
        if tab == "source":
            page.evaluate(f"window.serendip.openSource({top['obsreg_id']!r})")
            page.wait_for_function(
                f"document.body.dataset.sourceReady === {top['obsreg_id']!r}", timeout=60_000
            )
        else:
            button.click()
        if tab == "review":
            page.wait_for_function("document.getElementById('review-id').textContent !== ''")
        if tab == "table":
            page.wait_for_selector("#cand-table tbody tr")
        page.wait_for_timeout(500)
        path = artifact_dir() / f"tab-{tab}.png"
        page.screenshot(path=str(path))  # the viewport only: what a laptop shows
        shots[tab] = path
        # nothing wider than the screen: no horizontal scrolling
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366, tab
    assert {"embedding", "source", "review", "table", "export"} <= set(shots)


def test_report_reads_on_a_laptop(browser, page, fresh_run):
    """report.html at 1366x768: no horizontal scroll, results first and settings last, the
    app's palette and noise grey; screenshot in test-artifacts/explore/report.png."""
    import json
    import re

    from serendip.report import write_report

    path = write_report(fresh_run, settings={"input": {"n_sources": 600}}, n_top=4)
    page.goto(path.as_uri())
    page.wait_for_function("document.getElementById('emb').width > 0")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    heads = page.eval_on_selector_all("h2", "els => els.map(e => e.textContent)")
    assert heads[0] == "Embedding" and heads[-1] == "Settings"
    data = json.loads(page.inner_text("#report-data"))
    app_js = (REPO / "src/serendip/app/static/app.js").read_text()
    block = re.search(r"const PALETTE = \[(.*?)\];", app_js, re.S).group(1)
    assert data["palette"] == re.findall(r'"(#[0-9a-f]{6})"', block)
    assert data["noise"] == re.search(r'NOISE_COLOUR = "(#[0-9a-f]{6})"', app_js).group(1)
    page.screenshot(path=str(artifact_dir() / "report.png"))


@pytest.fixture(scope="module")
def optical_run(tmp_path_factory):
    """A light-curve (optical) run of 36 simulated objects in g and r (~10 s)."""
    from serendip.pipeline import load_config, run_pipeline
    from serendip.simulate.optical import simulate_lightcurves

    d = tmp_path_factory.mktemp("optical")
    lc, meta = simulate_lightcurves(12, ["SNIa", "RRL", "AGN"], seed=2, n_days=90)
    lc.to_csv(d / "lc.csv", index=False)
    (d / "run.toml").write_text(
        f'[input]\nlightcurves = ["{d / "lc.csv"}"]\nlightcurve_features = "basic"\n'
        "[embed]\nperplexity = 8.0\nn_iter = 60\n[cluster]\nmin_samples = 4\n"
        "[candidates]\nk_neighbours = 4\n"
    )
    run_pipeline(load_config(d / "run.toml"), d / "run", progress=False, stop_after="candidates")
    return d / "run", meta


def test_optical_run_shows_per_band_curves_with_errors(page, optical_run, start_server):
    """A light-curve run's source view: one curve per band with its error bars (and the
    folded curve of a periodic object), drawn first on the canvas, then by Plotly."""
    run, meta = optical_run
    server = start_server(run)
    rrl = str(meta.loc[meta["label"] == "RRL", "object_id"].iloc[0])
    want = httpx.get(f"{server.url}/api/source/{rrl}").json()["lightcurve"]
    open_page(page, f"{server.url}/source/{rrl}")
    page.wait_for_function(f"document.body.dataset.sourceReady === {rrl!r}", timeout=60_000)
    traces = page.evaluate(
        "document.getElementById('lightcurve').data.map(t => [t.name, t.xaxis || 'x',"
        " t.x.length, t.error_y ? t.error_y.array.length : 0])"
    )
    curves = {name: (n, n_err) for name, axis, n, n_err in traces if axis == "x"}
    assert set(want["bands"]) == {"g", "r"}
    for band, b in want["bands"].items():  # every point of the band, each with its error
        assert curves[band] == (len(b["t"]), len(b["t"])) and len(b["t"]) > 5
    if want["period_days"] is not None:
        folded = [t for t in traces if t[1] == "x2"]
        assert len(folded) == 2 and all(
            t[2] == 2 * len(want["bands"][t[0][0]]["t"]) for t in folded
        )
    # the canvas drawing came first and is hidden once Plotly has drawn the panel
    assert page.evaluate("document.querySelector('canvas.quick[data-for=lightcurve]').hidden")
    timing = page.evaluate("window.serendip.state.sourceTiming")
    assert timing["shown_ms"] <= timing["ready_ms"]
    shot(page, "9-optical-source")
