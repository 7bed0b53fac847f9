"""Probability calibration: temperature scaling, Dirichlet calibration and one-vs-rest isotonic.

Both map an (n, n_classes) probability matrix to a calibrated one, are fitted on
held-out (out-of-fold) predictions, and export their parameters as plain arrays so a
calibrated model can be saved without pickle.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

_EPS = 1e-12


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _as_index(y, n_classes: int) -> np.ndarray:
    y = np.asarray(y)
    if y.dtype.kind not in "iu":
        raise TypeError("y must be integer class indices 0..n_classes-1")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError("class index out of range")
    return y.astype(np.int64)


class TemperatureScaler:
    """Softmax temperature on log-probabilities: p' = softmax(log p / T).

    ``fit(proba, y)`` chooses T in [0.05, 100] minimising the negative log-likelihood of
    the integer labels ``y`` (n,); T > 1 softens over-confident probabilities.
    """

    def __init__(self, bounds: tuple[float, float] = (0.05, 100.0)):
        self.bounds = bounds

    def get_params(self, deep: bool = True) -> dict:
        """Settings as a dict (scikit-learn style)."""
        return {"bounds": self.bounds}

    def fit(self, proba: np.ndarray, y) -> TemperatureScaler:
        """Fit the temperature on probabilities (n, n_classes) and labels (n,); returns self."""
        proba = np.asarray(proba, dtype=np.float64)
        yi = _as_index(y, proba.shape[1])
        logp = np.log(np.clip(proba, _EPS, 1.0))

        def nll(log_t: float) -> float:
            p = _softmax(logp / np.exp(log_t))
            return -float(np.mean(np.log(np.clip(p[np.arange(len(yi)), yi], _EPS, 1.0))))

        res = minimize_scalar(nll, bounds=tuple(np.log(self.bounds)), method="bounded")
        self.temperature_ = float(np.exp(res.x))
        return self

    def transform(self, proba: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, (n, n_classes), rows summing to 1."""
        logp = np.log(np.clip(np.asarray(proba, dtype=np.float64), _EPS, 1.0))
        return _softmax(logp / self.temperature_)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Fitted state as arrays (``temperature``)."""
        return {"temperature": np.array([self.temperature_])}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> TemperatureScaler:
        """Rebuild from :meth:`to_arrays`."""
        obj = cls()
        obj.temperature_ = float(arrays["temperature"][0])
        return obj


class IsotonicCalibrator:
    """One-vs-rest isotonic regression per class, rows renormalised to sum to 1."""

    def get_params(self, deep: bool = True) -> dict:
        """Settings as a dict (none)."""
        return {}

    def fit(self, proba: np.ndarray, y) -> IsotonicCalibrator:
        """Fit one isotonic map per class on probabilities (n, n_classes) and labels (n,); returns
        self.
        """
        from sklearn.isotonic import IsotonicRegression

        proba = np.asarray(proba, dtype=np.float64)
        yi = _as_index(y, proba.shape[1])
        self.x_, self.y_ = [], []
        for c in range(proba.shape[1]):
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
                proba[:, c], (yi == c).astype(float)
            )
            self.x_.append(np.asarray(iso.X_thresholds_, dtype=np.float64))
            self.y_.append(np.asarray(iso.y_thresholds_, dtype=np.float64))
        return self

    def transform(self, proba: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, (n, n_classes), renormalised to sum to 1."""
        proba = np.asarray(proba, dtype=np.float64)
        out = np.column_stack(
            [np.interp(proba[:, c], self.x_[c], self.y_[c]) for c in range(proba.shape[1])]
        )
        s = out.sum(axis=1, keepdims=True)
        bad = s[:, 0] <= _EPS
        out[bad] = proba[bad]
        s[bad] = 1.0
        return out / s

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Fitted maps as NaN-padded arrays (``iso_x``, ``iso_y``, (n_classes, max_knots))."""
        n = max(len(x) for x in self.x_)
        xs = np.full((len(self.x_), n), np.nan)
        ys = np.full((len(self.x_), n), np.nan)
        for c, (x, y) in enumerate(zip(self.x_, self.y_, strict=True)):
            xs[c, : len(x)] = x
            ys[c, : len(y)] = y
        return {"iso_x": xs, "iso_y": ys}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> IsotonicCalibrator:
        """Rebuild from :meth:`to_arrays`."""
        obj = cls()
        obj.x_ = [r[np.isfinite(r)] for r in arrays["iso_x"]]
        obj.y_ = [r[np.isfinite(r)] for r in arrays["iso_y"]]
        return obj


class DirichletCalibrator:
    """Dirichlet calibration (Kull et al. 2019): p' = softmax(W log p + b), L2-regularised.

    A multinomial logistic regression on the log-probabilities, fitted on held-out
    predictions ``proba`` (n, C) with integer labels ``y`` (n,). ``W`` (C, C) and ``b`` (C,)
    are learned, so it corrects per-class biases (including a training prior that differs
    from the one the probabilities were made for) as well as over-confidence; temperature
    scaling is the special case W = I / T, b = 0. ``C`` is the inverse L2 strength.
    """

    def __init__(self, C: float = 10.0):
        self.C = C

    def get_params(self, deep: bool = True) -> dict:
        """Settings as a dict (``C``, the inverse L2 strength)."""
        return {"C": self.C}

    def fit(self, proba: np.ndarray, y) -> DirichletCalibrator:
        """Fit the Dirichlet map (multinomial regression on log-probabilities); returns self."""
        from sklearn.linear_model import LogisticRegression

        proba = np.asarray(proba, dtype=np.float64)
        yi = _as_index(y, proba.shape[1])
        lr = LogisticRegression(C=self.C, max_iter=1000).fit(np.log(np.clip(proba, _EPS, 1.0)), yi)
        W = np.zeros((proba.shape[1], proba.shape[1]))
        b = np.full(proba.shape[1], -50.0)  # a class never seen in y gets ~0 probability
        if len(lr.classes_) == 2:  # sklearn stores one row for two classes
            W[lr.classes_[1]] = lr.coef_[0]
            b[lr.classes_[1]] = lr.intercept_[0]
            b[lr.classes_[0]] = 0.0
        else:
            W[lr.classes_] = lr.coef_
            b[lr.classes_] = lr.intercept_
        self.weights_, self.bias_ = W, b
        return self

    def transform(self, proba: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, (n, n_classes), rows summing to 1."""
        logp = np.log(np.clip(np.asarray(proba, dtype=np.float64), _EPS, 1.0))
        return _softmax(logp @ self.weights_.T + self.bias_)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Fitted weights (n_classes, n_classes) and bias (n_classes,) as arrays."""
        return {"dirichlet_w": self.weights_, "dirichlet_b": self.bias_}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> DirichletCalibrator:
        """Rebuild from :meth:`to_arrays`."""
        obj = cls()
        obj.weights_, obj.bias_ = arrays["dirichlet_w"], arrays["dirichlet_b"]
        return obj


CALIBRATORS = {
    "temperature": TemperatureScaler,
    "dirichlet": DirichletCalibrator,
    "isotonic": IsotonicCalibrator,
}


def make_calibrator(kind: str | None):
    """``"temperature"``, ``"dirichlet"``, ``"isotonic"`` or ``None``/"none" (no calibration)."""
    if kind in (None, "none"):
        return None
    if kind in CALIBRATORS:
        return CALIBRATORS[kind]()
    raise ValueError(
        f"calibration must be one of {sorted(CALIBRATORS)} or 'none', not {kind!r}"
    )


def calibrator_from_arrays(kind: str | None, arrays: dict[str, np.ndarray]):
    """Rebuild the calibrator of ``kind`` from its exported arrays (None for "none")."""
    if kind in (None, "none"):
        return None
    return CALIBRATORS[kind].from_arrays(arrays)
