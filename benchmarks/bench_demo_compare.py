"""``serendip demo`` before and after a change: wall time per stage and the candidate tables.

Runs ``serendip demo`` twice in fresh subprocesses, once on the sources of a git revision
(``--before``, checked out into a temporary ``git worktree``; its numba kernels compile on
first use, as in a fresh clone) and once on this checkout, both into fresh run directories,
and compares the two ``candidates.parquet``:

* same set of files and the same rank of every file (rank = position in the table);
* largest absolute difference of every numeric column (scores, features), and the number of
  files whose rank moved.

Wall time per stage is read from each run's ``run.json``; both runs see the same machine
load (stated, ``os.getloadavg``), one after the other. The machine is shared: compare the two
columns, not the absolute figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def run_demo(src: Path, out: Path, n_sources: int) -> tuple[float, dict[str, float]]:
    """Wall time of ``serendip demo`` with ``src`` first on the path, and its stage seconds."""
    env = {**os.environ, "PYTHONPATH": str(src), "NUMBA_CACHE_DIR": str(out.parent / "numba")}
    cmd = [sys.executable, "-c", "from serendip.cli import main; main()", "demo"]
    cmd += ["--out", str(out), "--n-sources", str(n_sources), "-q"]
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - t
    stages = json.loads((out / "run.json").read_text())
    return wall, {
        k: v["seconds"] for k, v in stages.items() if isinstance(v, dict) and "seconds" in v
    }


def compare(before: pd.DataFrame, after: pd.DataFrame) -> tuple[dict[str, float], int, bool]:
    """(max |difference| per numeric column, files whose rank moved, same file set)."""
    b = before.assign(_rank=np.arange(len(before))).set_index(before["obsreg_id"].astype(str))
    a = after.assign(_rank=np.arange(len(after))).set_index(after["obsreg_id"].astype(str))
    same_set = set(a.index) == set(b.index)
    a = a.reindex(b.index)
    moved = int((a["_rank"].to_numpy() != b["_rank"].to_numpy()).sum())
    diffs = {}
    for c in b.columns:
        if c in a.columns and c != "_rank" and pd.api.types.is_numeric_dtype(b[c]):
            x, y = b[c].to_numpy(np.float64), a[c].to_numpy(np.float64)
            both = np.isfinite(x) & np.isfinite(y)
            nan_mismatch = int((np.isfinite(x) != np.isfinite(y)).sum())
            d = float(np.max(np.abs(x[both] - y[both]))) if both.any() else 0.0
            diffs[c] = d if not nan_mismatch else float("inf")
    return diffs, moved, same_set


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="git revision of the 'before' sources")
    ap.add_argument("--n-sources", type=int, default=5000)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="serendip_demo_cmp_"))
    tree = work / "before"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), args.before],
        check=True,
        capture_output=True,
    )
    sha = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    try:
        load0 = os.getloadavg()
        wb, sb = run_demo(tree / "src", work / "b" / "run", args.n_sources)
        wa, sa = run_demo(ROOT / "src", work / "a" / "run", args.n_sources)
        load1 = os.getloadavg()
        cb = pd.read_parquet(work / "b" / "run" / "candidates.parquet")
        ca = pd.read_parquet(work / "a" / "run" / "candidates.parquet")
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)])
    diffs, moved, same_set = compare(cb, ca)
    exact = [c for c, d in diffs.items() if d == 0.0]
    changed = {c: d for c, d in diffs.items() if d != 0.0}
    rows = [
        "| stage | before (" + sha + ") [s] | after [s] |",
        "|---|---|---|",
        *(f"| {k} | {sb.get(k, float('nan')):.1f} | {sa.get(k, float('nan')):.1f} |" for k in sa),
        f"| whole command (wall, incl. start-up and compilation) | {wb:.1f} | {wa:.1f} |",
    ]
    body = "\n".join(rows) + "\n\n"
    body += (
        f"Candidate tables ({len(cb)} and {len(ca)} rows): same files: {same_set}; files whose "
        f"rank moved: {moved}; {len(exact)} of {len(diffs)} numeric columns identical"
    )
    body += (
        "; differing: " + ", ".join(f"`{c}` (max abs {d:.2g})" for c, d in changed.items()) + "."
        if changed
        else "."
    )
    body += (
        f"\n\nLoad average {load0[0]:.1f} before and {load1[0]:.1f} after the two runs on 2 "
        "shared cores (run one after the other; wall times include waiting for a core)."
    )
    print(body)
    if not args.no_write:
        write_section("demo_compare", "serendip demo before and after (issue 21)", body)


if __name__ == "__main__":
    main()
