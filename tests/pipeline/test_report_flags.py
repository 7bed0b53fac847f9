"""The report counts the candidates' instrument and background flags, overall and in the top."""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.report import write_report
from serendip.report.html import _flag_summary


def test_report_counts_flags(tmp_path):
    n = 30
    rng = np.random.default_rng(0)
    cand = pd.DataFrame({
        "obsreg_id": [f"754_{i}" for i in range(n)], "rank": np.arange(1, n + 1),
        "score": np.linspace(1, 0.1, n), "reasons": ["not flagged"] * n,
        "anomaly_percentile": np.linspace(1, 0.1, n), "emb_x": rng.normal(size=n),
        "emb_y": rng.normal(size=n), "cluster": np.zeros(n, int),
        "edge_dither": np.arange(n) % 10 == 3, "single_pixel": np.arange(n) == 25,
        "background_flare": np.zeros(n, bool)})
    text = write_report(tmp_path, candidates=cand, settings={}, n_top=3, n_table=10).read_text()
    assert "<b>Flags</b>" in text
    assert "edge_dither 3 (1 in the top 10)" in text and "single_pixel 1 (0 in the top" in text
    assert "background_flare 0 (0 in the top" in text
    assert _flag_summary(cand.drop(columns=["edge_dither", "single_pixel", "background_flare"]), 10) == ""
