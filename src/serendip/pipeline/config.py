"""Run configuration: a TOML file merged over :data:`DEFAULT_CONFIG`.

Every key a run uses is in the defaults below, so the resolved configuration written to
``RUN_DIR/config.toml`` records every setting of the run.
"""

from __future__ import annotations

import copy
import math
import numbers
from pathlib import Path
from typing import Any

from serendip.configfile import read_toml
from serendip.errors import ConfigError
from serendip.features.registry import FEATURE_CASES as _CASE_REGISTRY

#: The four reference cases of Dillmann et al. and serendip's own, as one setting
#: (names from :data:`serendip.features.registry.FEATURE_CASES`).
FEATURE_CASES = tuple(_CASE_REGISTRY.names())

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


#: settings whose default's type is not the only one accepted
_EXTRA_TYPES: dict[str, tuple[type, ...]] = {"embed.learning_rate": (int, float)}


def _type_ok(default: Any, value: Any, key: str) -> bool:
    """Whether ``value`` may replace ``default`` (TOML types; ints count as floats; numpy
    scalars count as the Python type they stand for)."""
    is_bool = isinstance(value, bool) or type(value).__name__ == "bool_"
    is_int = isinstance(value, numbers.Integral) and not is_bool
    is_real = isinstance(value, numbers.Real) and not is_bool
    extra = _EXTRA_TYPES.get(key, ())
    if extra and isinstance(value, tuple(extra)) and not is_bool:
        return True
    if isinstance(default, bool):
        return is_bool
    if isinstance(default, int):
        return is_int
    if isinstance(default, float):
        return is_real
    return isinstance(value, type(default))


_TYPE_NAMES = {bool: "true/false", int: "an integer", float: "a number", str: "a string"}


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
            if not _type_ok(base[key], value, f"{where}{key}"):
                want = _TYPE_NAMES.get(type(base[key]), f"a {type(base[key]).__name__}")
                raise ConfigError(
                    source,
                    f"wrong type for {where}{key}: must be {want}, got "
                    f"{type(value).__name__} {value!r}",
                )
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
        cfg = _merge(cfg, read_toml(path), "", path)
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
    band = inp["band_ev"]
    if (
        not isinstance(band, list | tuple)
        or len(band) != 2
        or not all(isinstance(b, int | float) and not isinstance(b, bool) for b in band)
        or not 0 < band[0] < band[1] < float("inf")
    ):
        raise ConfigError(
            source,
            f"input.band_ev must be [low, high] eV with 0 < low < high; got {band!r}",
        )
    if not inp["simulate"]:
        for p in inp["paths"]:
            if not isinstance(p, str) or not p.strip():
                raise ConfigError(
                    source, f"input.paths entries must be file or folder names, got {p!r}"
                )
            if not Path(p).exists():
                raise ConfigError(source, f"input.paths: no such file or folder {p!r}")
        kt = inp["known_transients"]
        if kt and kt != "truth" and not Path(kt).is_file():
            raise ConfigError(source, f"input.known_transients: no such file {kt!r}")
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
    lr = cfg["embed"]["learning_rate"]
    if isinstance(lr, str) and lr != "auto":
        raise ConfigError(source, f"embed.learning_rate must be 'auto' or a number; got {lr!r}")
    positive = {
        "embed.perplexity": cfg["embed"]["perplexity"],
        "embed.n_iter": cfg["embed"]["n_iter"],
        "embed.early_exaggeration": cfg["embed"]["early_exaggeration"],
        "embed.n_neighbors": cfg["embed"]["n_neighbors"],
        "cluster.eps": cfg["cluster"]["eps"],
        "cluster.min_samples": cfg["cluster"]["min_samples"],
        "cluster.min_cluster_size": cfg["cluster"]["min_cluster_size"],
        "candidates.k_neighbours": cfg["candidates"]["k_neighbours"],
        "candidates.n_estimators": cfg["candidates"]["n_estimators"],
        "report.n_top": cfg["report"]["n_top"],
    }
    if not isinstance(lr, str):
        positive["embed.learning_rate"] = lr
    for name, value in positive.items():
        if not float(value) > 0 or not math.isfinite(float(value)):
            raise ConfigError(source, f"{name} must be a positive finite number; got {value!r}")
    for name in ("features.n_components", "input.seed", "embed.random_state"):
        sec, key = name.split(".")
        if int(cfg[sec][key]) < 0:
            raise ConfigError(source, f"{name} must be >= 0; got {cfg[sec][key]!r}")
    if float(cfg["embed"]["min_dist"]) < 0 or float(cfg["candidates"]["nn_span"]) < 0:
        raise ConfigError(source, "embed.min_dist and candidates.nn_span must be >= 0")


def dump_config(cfg: dict[str, Any], path: str | Path) -> None:
    """Write the resolved configuration as TOML."""
    import tomli_w

    from serendip.io.atomic import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_bytes(tomli_w.dumps(cfg).encode())
