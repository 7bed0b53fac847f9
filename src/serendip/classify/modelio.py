"""Save and load fitted classifiers without pickle (safetensors + JSON settings).

A model file stores every fitted array (scalers, GMM, Mahalanobis class statistics or
the boosted trees, calibrator) and the settings (class order, feature set and names,
hyper-parameters, training provenance). Loading rebuilds the estimator from the arrays;
nothing is refitted and no code from the file is executed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from serendip.classify.shipped import SHIPPED  # noqa: F401 - names of the shipped models
from serendip.errors import ModelFileError
from serendip.io.modelfile import load_model, save_model

KINDS = {
    "classify.CrossFitBoost": "crossfit",
    "classify.ClusterBoost": "boosted",
    "classify.Umlcaxs": "umlcaxs",
}


def save_classifier(
    path: str | Path,
    model,
    feature_set: str,
    feature_names: list[str],
    info: dict | None = None,
    extra_arrays: dict[str, np.ndarray] | None = None,
) -> Path:
    """Write ``model`` (CrossFitBoost-, ClusterBoost- or UmlcaxsClassifier) to ``path``.

    ``info`` should carry the cross-validated figures the model was validated with
    (``cv_*`` keys); :func:`serendip.classify.crossval.cv_info` makes them.
    """
    from serendip.classify.boosted import ClusterBoostClassifier
    from serendip.classify.crossfit import CrossFitBoostClassifier
    from serendip.classify.umlcaxs import UmlcaxsClassifier

    if isinstance(model, CrossFitBoostClassifier):
        kind = "classify.CrossFitBoost"
    elif isinstance(model, ClusterBoostClassifier):
        kind = "classify.ClusterBoost"
    elif isinstance(model, UmlcaxsClassifier):
        kind = "classify.Umlcaxs"
    else:
        raise TypeError(f"cannot save a {type(model).__name__}")
    arrays, settings = model.to_arrays()
    for k, v in (extra_arrays or {}).items():
        arrays["extra_" + k] = np.asarray(v)
    settings.update(
        {"feature_set": feature_set, "feature_names": list(feature_names), "info": info or {}}
    )
    return save_model(path, kind, arrays, settings)


def load_classifier(path: str | Path):
    """Return ``(model, settings, extra_arrays)`` from a file written by :func:`save_classifier`."""
    from serendip.classify.boosted import ClusterBoostClassifier
    from serendip.classify.crossfit import CrossFitBoostClassifier
    from serendip.classify.umlcaxs import UmlcaxsClassifier

    arrays, settings, kind = load_model(path)
    try:
        if kind == "classify.CrossFitBoost":
            model = CrossFitBoostClassifier.from_arrays(arrays, settings)
        elif kind == "classify.ClusterBoost":
            model = ClusterBoostClassifier.from_arrays(arrays, settings)
        elif kind == "classify.Umlcaxs":
            model = UmlcaxsClassifier.from_arrays(arrays, settings)
        else:
            raise ModelFileError(path, f"holds a {kind!r} model, not a serendip classifier")
        for key in ("feature_set", "feature_names", "classes"):
            if key not in settings:
                raise KeyError(key)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(path, f"classifier model is incomplete or malformed: {exc}") from exc
    extra = {k[len("extra_") :]: v for k, v in arrays.items() if k.startswith("extra_")}
    return model, settings, extra


def shipped_model_path(name: str = "csc_xray_grouped") -> Path:
    """Path of a shipped classifier model (one of ``SHIPPED``) in ``serendip/models``."""
    from serendip.paths import models_dir

    if name not in SHIPPED:
        raise ModelFileError(name, f"no shipped classifier of that name; have {sorted(SHIPPED)}")
    return models_dir() / SHIPPED[name]


def load_shipped(name: str = "csc_xray_grouped"):
    """Load a shipped classifier: ``(model, settings, extra_arrays)``."""
    return load_classifier(shipped_model_path(name))
