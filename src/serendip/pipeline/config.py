"""Run configuration: a TOML file merged over :data:`DEFAULT_CONFIG`.

Every key a run uses is in the defaults below, so the resolved configuration written to
``RUN_DIR/config.toml`` records every setting of the run.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

from serendip.errors import ConfigError

#: The four reference cases of Dillmann et al. and serendip's own, as one setting.
FEATURE_CASES = ("2D-PCA", "3D-PCA", "2D-AE", "3D-AE", "deepsets", "events", "serendip")

DEFAULT_CONFIG: dict[str, Any] = {
    "input": {
        # either a simulated population ...
        "simulate": True,
        "n_sources": 5000,
        "seed": 0,
        # ... or event files / folders / event tables (when simulate = false)
        "paths": [],
        "band_ev": [500.0, 7000.0],
        # known transients: JSON (reference bonafide layout) or CSV (obsreg_id, type);
        # for a simulated population "truth" labels a random fraction of its flares/dips as known
        "known_transients": "truth",
        "known_fraction": 0.1,
    },
    "features": {
        # one of FEATURE_CASES; "events" (event features incl. burst significance) recovers
        # injected transients best on the simulated population (see BENCHMARKS.md)
        "case": "events",
        "n_components": 0,  # 0 = the case's default (15 for 2D-PCA, 22 for 3D-PCA)
    },
    "embed": {
        "method": "tsne",  # tsne | umap
        "perplexity": 30.0,
        "learning_rate": "auto",
        "n_iter": 500,
        "early_exaggeration": 12.0,
        "init": "pca",
        "random_state": 0,
        "n_neighbors": 15,  # umap
        "min_dist": 0.1,  # umap
    },
    "cluster": {
        "method": "dbscan",  # dbscan | hdbscan
        "eps": 2.5,
        "min_samples": 25,
        "min_cluster_size": 25,  # hdbscan
    },
    "candidates": {
        "k_neighbours": 10,
        # analogs of known transients rank like the anomaly top (nn_span * r / (k + 1)):
        # with 0.2 only each known transient's nearest analog reaches the top 2 %
        "nn_span": 0.2,
        "anomaly": "iforest",
        "n_estimators": 300,
        "random_state": 0,
    },
    "report": {
        "n_top": 24,
    },
}


def _merge(
    base: dict[str, Any], override: dict[str, Any], where: str, source: str | Path | None
) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if key not in base:
            known = ", ".join(sorted(base))
            raise ConfigError(source, f"unknown setting {where}{key!r}; known: {known}")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(source, f"{where}{key} must be a table")
            out[key] = _merge(base[key], value, f"{where}{key}.", source)
        else:
            out[key] = value
    return out


def load_config(
    path: str | Path | None = None, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Read a TOML run configuration (or none) over the defaults; validate it.

    Raises :class:`ConfigError` naming the file for syntax errors, unknown keys and bad values.
    """
    cfg = copy.deepcopy(DEFAULT_CONFIG)
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(path, "no such configuration file")
        try:
            data = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(path, f"not valid TOML: {exc}") from exc
        cfg = _merge(cfg, data, "", path)
    if overrides:
        cfg = _merge(cfg, overrides, "", path)
    validate(cfg, path)
    return cfg


def validate(cfg: dict[str, Any], source: str | Path | None = None) -> None:
    """Check values (not only keys) of a merged configuration."""
    inp = cfg["input"]
    if not inp["simulate"] and not inp["paths"]:
        raise ConfigError(
            source, "input.paths is empty and input.simulate is false: nothing to run on"
        )
    if inp["simulate"] and int(inp["n_sources"]) < 50:
        raise ConfigError(source, "input.n_sources must be >= 50")
    lo, hi = inp["band_ev"]
    if not 0 < lo < hi:
        raise ConfigError(
            source,
            f"input.band_ev must be [low, high] eV with 0 < low < high; got {inp['band_ev']}",
        )
    if cfg["features"]["case"] not in FEATURE_CASES:
        raise ConfigError(
            source, f"features.case must be one of {FEATURE_CASES}; got {cfg['features']['case']!r}"
        )
    if cfg["embed"]["method"] not in ("tsne", "umap"):
        raise ConfigError(source, "embed.method must be 'tsne' or 'umap'")
    if cfg["cluster"]["method"] not in ("dbscan", "hdbscan"):
        raise ConfigError(source, "cluster.method must be 'dbscan' or 'hdbscan'")
    if not 0 <= float(inp["known_fraction"]) <= 1:
        raise ConfigError(source, "input.known_fraction must be within [0, 1]")


def dump_config(cfg: dict[str, Any], path: str | Path) -> None:
    """Write the resolved configuration as TOML."""
    import tomli_w

    from serendip.io.atomic import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_bytes(tomli_w.dumps(cfg).encode())
