"""Active learning: re-rank candidates from an astronomer's labels.

:class:`ActiveRanker` starts from a static candidate score (``base_score``, higher = inspect
sooner, e.g. the ``score`` column of ``candidates.parquet``) and the run's feature table
``X`` (n_rows, n_features). After each batch of labels (1 = interesting, 0 = not
interesting; an artefact counts as 0) it re-ranks the rows not yet seen. Strategies
(:data:`STRATEGIES`):

``static``
    No learning: the baseline. The score is the percentile of ``base_score``.
``knn`` (default)
    Neighbour regression in the spirit of Astronomaly (Lochner & Bassett 2021), in a
    robustly standardised, arcsinh-compressed feature space. Two terms are added to the
    base-score percentile:

    * a Gaussian kernel spreads the labels to every row, giving a smoothed probability
      ``p`` of "interesting" that falls back to ``prior`` where no label is near:
      ``p = (sum w y + prior_weight * prior) / (sum w + prior_weight)``; term
      ``boost * (p - prior)``. Rows far from every label keep their static order, rows
      like those labelled uninteresting sink, rows like interesting ones rise. An update
      costs O(n_rows * n_features) per *new* label (running kernel sums).
    * once both kinds of label exist, an extra-trees classifier (Astronomaly uses a random
      forest regressor) trained on the labelled rows adds
      ``forest_weight * (P(interesting) - 0.5)`` to the ``pool_size`` rows ranked highest
      by the kernel score (predicting on all 100,000 rows would cost ~1 s per label).
      It learns which features matter, which the isotropic kernel cannot.
``aad``
    Active anomaly discovery (Das et al. 2017) with coniferest's ``AADForest``: an
    isolation forest whose leaf weights are re-solved (a quadratic programme) from all
    labels at each update. Labels count only where the forest's own score lies above its
    ``budget`` quantile (the AAD hinge), so "not interesting" labels on rows the forest
    finds ordinary change nothing.
``pine``
    coniferest's ``PineForest``: grows ``n_spare_trees`` extra isolation trees and keeps
    the ``n_trees`` that isolate the labelled-interesting rows fastest and the
    labelled-uninteresting ones slowest.

For ``aad`` and ``pine`` the learned forest is folded into the candidate score on a
log-rank scale, ``t(pct) = -log10(1 - pct + 1/n)`` (top row log10 n, top 10 about
log10(n/10)): ``anchored = t(base) + boost * (t(q) - t(q0))`` with ``q`` the percentile of the
forest's anomaly score after the labels and ``q0`` before any label, so a row the labels
move from the forest's top 10 to its top 100 moves about tenfold down the candidate list;
for ``aad``, after ``m`` labels the score hands over to the forest's own ranking,
``score = (1 - w) anchored + w t(q)`` with ``w = m / (m + handover_labels)``, so with many
labels ``aad`` ranks as coniferest's AADForest does.
For every strategy the score is a monotone map of ``base_score`` until the first label,
and the labels only move rows relative to the static ranking.

The labels are the state: the app re-fits from them (:meth:`ActiveRanker.update` always
takes *all* labels so far), so nothing but :meth:`get_params` needs saving.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from serendip.detect.strategies import DEFAULT_STRATEGY, STRATEGIES
from serendip.errors import InputError


def _percentile(score: np.ndarray) -> np.ndarray:
    """Fraction of rows scoring at or below each row's score, (n,) in (0, 1]; ties share."""
    score = np.asarray(score, dtype=np.float64)
    n = score.shape[0]
    order = np.argsort(score, kind="stable")
    srt = score[order]
    # "max" rank: position of the last equal value + 1
    hi = np.searchsorted(srt, srt, side="right")
    out = np.empty(n, dtype=np.float64)
    out[order] = hi / n
    return out


def _tail(pct: np.ndarray) -> np.ndarray:
    """Percentile (n,) -> log10 of the inverse fraction at or above: 0 for the lowest row,
    log10(n) for the top one. Moving from the top 10 to the top 100 is -1 on this scale."""
    n = pct.shape[0]
    return -np.log10(np.clip(1.0 - pct + 1.0 / n, 1.0 / n, 1.0))


def _robust_compress(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Robust z-score per column (median, IQR/1.349, std or 1 as fall-backs), then arcsinh.

    Returns (Z, centre, scale); Z (n, d) float64. arcsinh keeps the order and the sign but
    turns heavy tails (counts, significances) into roughly logarithmic distances.
    """
    centre = np.median(X, axis=0)
    q75, q25 = np.percentile(X, [75.0, 25.0], axis=0)
    scale = (q75 - q25) / 1.349
    std = X.std(axis=0)
    scale = np.where(scale > 1e-12, scale, np.where(std > 1e-12, std, 1.0))
    return np.arcsinh((X - centre) / scale), centre, scale


def impute_features(X: np.ndarray) -> np.ndarray:
    """``X`` with missing values (NaN, +-inf) set to their column's median, stated.

    Catalogue tables (e.g. MUWCLASS) lack some measurements for many rows; the ranker takes
    them as they are. Each filled value is counted in a notice (``detect`` /
    ``imputed_missing``, with the number of values and of columns); a column with no value at
    all is set to 0 (it then carries no information). Returns a new (n, d) float64 array.
    """
    X = np.asarray(X, dtype=np.float64)
    bad = ~np.isfinite(X)
    if not bad.any():
        return X
    from serendip.notices import notice

    X = np.where(bad, np.nan, X)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            med = np.nanmedian(X, axis=0)
    med = np.where(np.isfinite(med), med, 0.0)
    X = np.where(bad, med[None, :], X)
    cols = int(bad.any(axis=0).sum())
    notice(
        "detect",
        "imputed_missing",
        f"active learning: {int(bad.sum())} missing feature values in {cols} of "
        f"{X.shape[1]} columns set to the column median",
        count=int(bad.sum()),
        total=int(X.size),
    )
    return X


class ActiveRanker(BaseEstimator):
    """Re-rank rows (candidates) from labels; higher score = inspect sooner.

    Parameters
    ----------
    strategy : one of :data:`STRATEGIES`.
    random_state : seed (int) of the forests (``aad``, ``pine``) and of the bandwidth
        subsample (``knn``).
    boost : weight of the learned term (all learning strategies). For ``knn`` 1.0 lets a
        confident "uninteresting" neighbourhood sink by up to ``boost * prior`` in
        percentile; for ``aad`` / ``pine`` it multiplies the log-rank shift.
    bandwidth : ``knn`` kernel width in the compressed feature space; "auto" =
        ``bandwidth_scale`` x the median distance from the 1,000 top-scored rows to their
        ``n_neighbours``-th nearest neighbour among the 2,000 top-scored rows.
    bandwidth_scale : multiplier of the automatic bandwidth.
    n_neighbours : neighbour rank used by the automatic bandwidth.
    prior : ``knn`` probability of "interesting" where no label is near.
    prior_weight : ``knn`` pseudo-count of the prior (kernel weight units: one label at
        distance 0 weighs 1).
    n_trees, n_subsamples : forest size and rows per tree (``aad``, ``pine``).
    prior_influence : ``aad`` regularisation towards the unlabelled leaf weights (default 0,
        coniferest's).
    budget : ``aad`` anomaly budget (fraction of rows, or int rows, or "auto", coniferest's
        default): the quantile of the forest score that interesting rows should exceed and
        uninteresting ones stay below. With coniferest's defaults ``aad`` finds 33.5 MUWCLASS
        XRBs in 100 reviews (AADForest alone 23.0) and 94 SNAD flares (94.5); with
        ``budget=0.03, prior_influence=1`` it found 9.5 and 68 (benchmarks/bench_active_real.py).
    n_spare_trees : ``pine`` extra trees grown before filtering.
    n_jobs : threads of the coniferest forests.
    forest_weight : ``knn`` weight of the extra-trees classifier term (0 = kernel only).
    forest_trees : ``knn`` trees of that classifier.
    pool_size : ``knn`` rows (highest kernel score first) the classifier re-scores.
    handover_labels : ``aad``: labels at which the learned forest's own ranking
        and the label-shifted static ranking weigh the same (weight ``m / (m + this)`` on the
        forest after ``m`` labels; 0 = the forest's ranking from the first label). On
        MUWCLASS XRBs the forest alone (coniferest's AADForest) finds about twice what the
        shifted static ranking finds at 100 reviews (benchmarks/bench_active_real.py).

    Attributes (after :meth:`fit`)
    ------------------------------
    n_rows_ : number of rows; base_pct_ : (n,) percentile of the base score;
    labelled_ : (m,) int64 row indices labelled so far; labels_ : (m,) int64 labels.
    """

    def __init__(
        self,
        strategy: str = DEFAULT_STRATEGY,
        random_state: int | None = 0,
        boost: float = 1.0,
        bandwidth: Any = "auto",
        bandwidth_scale: float = 1.0,
        n_neighbours: int = 10,
        prior: float = 0.5,
        prior_weight: float = 1.0,
        n_trees: int = 100,
        n_subsamples: int = 256,
        prior_influence: float = 0.0,
        budget: Any = "auto",
        n_spare_trees: int = 400,
        n_jobs: int = 1,
        forest_weight: float = 0.5,
        forest_trees: int = 50,
        pool_size: int = 5000,
        handover_labels: float = 10.0,
    ):
        self.strategy = strategy
        self.random_state = random_state
        self.boost = boost
        self.bandwidth = bandwidth
        self.bandwidth_scale = bandwidth_scale
        self.n_neighbours = n_neighbours
        self.prior = prior
        self.prior_weight = prior_weight
        self.n_trees = n_trees
        self.n_subsamples = n_subsamples
        self.prior_influence = prior_influence
        self.budget = budget
        self.n_spare_trees = n_spare_trees
        self.n_jobs = n_jobs
        self.forest_weight = forest_weight
        self.forest_trees = forest_trees
        self.pool_size = pool_size
        self.handover_labels = handover_labels

    # ------------------------------------------------------------------ fit
    def fit(self, X, base_score) -> ActiveRanker:
        """Set up on features ``X`` (n, d) and the static score ``base_score`` (n,).

        Clears any labels. Missing feature values (NaN, inf) are set to the column median and
        counted (:func:`impute_features`). Raises :class:`InputError` on bad shapes or a
        non-finite ``base_score``.
        """
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}; choose one of {STRATEGIES}")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
            raise InputError(
                None,
                f"features must be a non-empty (n_rows, n_features) array; got shape {X.shape}",
            )
        base = np.asarray(base_score, dtype=np.float64)
        if base.shape != (X.shape[0],):
            raise InputError(
                None,
                f"base_score has shape {base.shape}, expected ({X.shape[0]},) (one per feature row)",
            )
        X = impute_features(X)
        if not np.all(np.isfinite(base)):
            raise InputError(
                None, f"non-finite base_score at row {int(np.argmax(~np.isfinite(base)))}"
            )
        self.n_rows_ = X.shape[0]
        self.base_pct_ = _percentile(base)
        self.labelled_ = np.zeros(0, dtype=np.int64)
        self.labels_ = np.zeros(0, dtype=np.int64)
        self._learned = np.zeros(self.n_rows_)
        if self.strategy == "knn":
            self._fit_knn(X)
        elif self.strategy in ("aad", "pine"):
            self._X = np.ascontiguousarray(X)
            self._fit_forest()
        self._score = self._combine()
        return self

    # --------------------------------------------------------------- update
    def update(self, idx, y) -> ActiveRanker:
        """Re-rank from *all* labels so far: rows ``idx`` (m,) with labels ``y`` (m,) in {0, 1}.

        A row given twice keeps its last label. Rows absent from ``idx`` that were labelled
        before lose their label (the caller passes the full, current label set).
        """
        self._check_fitted()
        idx = np.atleast_1d(np.asarray(idx))
        y = np.atleast_1d(np.asarray(y))
        if idx.shape != y.shape or idx.ndim != 1:
            raise InputError(
                None, f"idx and y must be 1-D of equal length; got {idx.shape} and {y.shape}"
            )
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise InputError(None, f"idx must hold integer row indices; got dtype {idx.dtype}")
        idx = idx.astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.n_rows_):
            raise InputError(None, f"row index out of range 0..{self.n_rows_ - 1}")
        if y.size and not np.all(np.isin(y, (0, 1))):
            raise InputError(
                None, "labels must be 1 (interesting) or 0 (not interesting / artefact)"
            )
        y = y.astype(np.int64)
        # keep the last label of a repeated row
        _, rev_first = np.unique(idx[::-1], return_index=True)
        keep = len(idx) - 1 - rev_first
        idx, y = idx[keep], y[keep]  # sorted by row
        old_idx, old_y = self.labelled_, self.labels_
        self.labelled_, self.labels_ = idx, y
        if self.strategy == "knn":
            self._update_knn(old_idx, old_y, idx, y)
        elif self.strategy in ("aad", "pine"):
            self._update_forest(idx, y)
        self._score = self._combine()
        return self

    def _combine(self) -> np.ndarray:
        if self.strategy == "pine":
            return self._base_tail + self.boost * self._learned
        if self.strategy == "aad":
            # hand over from the static ranking to the learned forest as labels accrue:
            # weight m / (m + handover_labels) on the forest's own log-rank score
            m = len(self.labelled_)
            lam = m / (m + float(self.handover_labels)) if self.handover_labels > 0 else 1.0
            anchored = self._base_tail + self.boost * self._learned
            return (1.0 - lam) * anchored + lam * (self._q0 + self._learned)
        return self.base_pct_ + self.boost * self._learned

    # ------------------------------------------------------------- queries
    def score_samples(self, X=None) -> np.ndarray:
        """Current ranking score of every fitted row, (n_rows,) float64, higher = inspect sooner.

        ``X`` is accepted for scikit-learn symmetry and must be None (the ranker scores the
        rows it was fitted on).
        """
        self._check_fitted()
        if X is not None:
            raise InputError(
                None, "ActiveRanker scores the rows it was fitted on; call score_samples()"
            )
        return self._score.copy()

    def next_indices(self, k: int = 1) -> np.ndarray:
        """The ``k`` highest-scored rows not yet labelled, (<= k,) int64, best first.

        Ties go to the higher base score, then the lower row index.
        """
        self._check_fitted()
        k = int(k)
        if k < 0:
            raise ValueError("k must be >= 0")
        score = self._score.copy()
        score[self.labelled_] = -np.inf
        n_free = self.n_rows_ - len(self.labelled_)
        k = min(k, n_free)
        if k == 0:
            return np.zeros(0, dtype=np.int64)
        part = np.argpartition(-score, k - 1)[:k] if k < self.n_rows_ else np.arange(self.n_rows_)
        # include every row tied with the k-th so the tie-break below is exact
        cut = score[part].min()
        cand = np.flatnonzero(score >= cut)
        order = np.lexsort((cand, -self.base_pct_[cand], -score[cand]))
        return cand[order[:k]].astype(np.int64)

    # ----------------------------------------------------------------- knn
    def _fit_knn(self, X: np.ndarray) -> None:
        Z, _, _ = _robust_compress(X)
        self._Z = np.ascontiguousarray(Z)
        self._z2 = np.einsum("ij,ij->i", self._Z, self._Z)
        if self.bandwidth == "auto":
            self.bandwidth_ = self.bandwidth_scale * self._auto_bandwidth()
        else:
            self.bandwidth_ = float(self.bandwidth)
            if not self.bandwidth_ > 0:
                raise ValueError("bandwidth must be > 0 or 'auto'")
        self._sum_w = np.zeros(self.n_rows_)
        self._sum_wy = np.zeros(self.n_rows_)

    def _auto_bandwidth(self) -> float:
        from sklearn.neighbors import NearestNeighbors

        n = self.n_rows_
        top = np.argsort(-self.base_pct_, kind="stable")[: min(2000, n)]
        k = min(int(self.n_neighbours), len(top) - 1)
        if k < 1:
            return 1.0
        nn = NearestNeighbors(n_neighbors=k + 1).fit(self._Z[top])
        dist, _ = nn.kneighbors(self._Z[top[: min(1000, len(top))]])
        h = float(np.median(dist[:, k]))
        return h if h > 1e-9 else 1.0

    def _kernel(self, rows: np.ndarray) -> np.ndarray:
        """Gaussian kernel between every row and ``rows`` (m,), (n, m) float64 (in place,
        one BLAS thread: a thin (n, d) x (d, m) product is slower threaded on busy cores)."""
        from threadpoolctl import threadpool_limits

        zr_t = np.ascontiguousarray(self._Z[rows].T)
        with threadpool_limits(1, user_api="blas"):
            d2 = self._Z @ zr_t
        d2 *= -2.0
        d2 += self._z2[:, None]
        d2 += self._z2[rows][None, :]
        np.maximum(d2, 0.0, out=d2)
        d2 *= -0.5 / self.bandwidth_**2
        return np.exp(d2, out=d2)

    def _update_knn(self, old_idx, old_y, idx, y) -> None:
        old = dict(zip(old_idx.tolist(), old_y.tolist(), strict=True))
        new = dict(zip(idx.tolist(), y.tolist(), strict=True))
        removed = [(r, v) for r, v in old.items() if new.get(r) != v]
        added = [(r, v) for r, v in new.items() if old.get(r) != v]
        for sign, changes in ((-1.0, removed), (1.0, added)):
            for start in range(0, len(changes), 32):  # bounded (n, 32) kernel blocks
                block = changes[start : start + 32]
                rows = np.array([r for r, _ in block], dtype=np.int64)
                vals = np.array([v for _, v in block], dtype=np.float64)
                K = self._kernel(rows)
                self._sum_w += sign * K.sum(axis=1)
                self._sum_wy += sign * (K @ vals)
        if not new:  # exact reset (no round-off residue) when every label is withdrawn
            self._sum_w[:] = 0.0
            self._sum_wy[:] = 0.0
        np.maximum(self._sum_w, 0.0, out=self._sum_w)
        a = float(self.prior_weight)
        p = (self._sum_wy + a * self.prior) / (self._sum_w + a)
        self._learned = p - self.prior
        if self.forest_weight > 0 and len(np.unique(y)) == 2:
            self._learned += self._forest_term(idx, y)

    def _forest_term(self, idx: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Extra-trees classifier on the labelled rows, applied to the ``pool_size`` rows
        ranked highest by the kernel score: ``forest_weight * (P(interesting) - 0.5) / boost``
        there, 0 elsewhere (predicting on every row would cost ~1 s at 100,000 rows)."""
        from sklearn.ensemble import ExtraTreesClassifier

        clf = ExtraTreesClassifier(
            n_estimators=int(self.forest_trees), random_state=self.random_state, n_jobs=1
        ).fit(self._Z[idx], y)
        current = self.base_pct_ + self.boost * self._learned
        pool_n = min(int(self.pool_size), self.n_rows_)
        pool = np.argpartition(-current, pool_n - 1)[:pool_n]
        term = np.zeros(self.n_rows_)
        proba = clf.predict_proba(self._Z[pool])[:, list(clf.classes_).index(1)]
        term[pool] = float(self.forest_weight) * (proba - 0.5) / max(float(self.boost), 1e-12)
        return term

    # -------------------------------------------------------------- forests
    def _make_forest(self):
        if self.strategy == "aad":
            from coniferest.aadforest import AADForest

            return AADForest(
                n_trees=int(self.n_trees),
                n_subsamples=int(self.n_subsamples),
                prior_influence=float(self.prior_influence),
                budget=self.budget,
                n_jobs=int(self.n_jobs),
                random_seed=self.random_state,
            )
        from coniferest.pineforest import PineForest

        return PineForest(
            n_trees=int(self.n_trees),
            n_subsamples=int(self.n_subsamples),
            n_spare_trees=int(self.n_spare_trees),
            n_jobs=int(self.n_jobs),
            random_seed=self.random_state,
        )

    def _fit_forest(self) -> None:
        self._forest = self._make_forest().fit(self._X)
        if self.strategy == "aad":
            self._aad_w0 = self._forest.evaluator.weights.copy()
        # coniferest: lower score = more anomalous; flip so higher = more anomalous
        self._q0 = _tail(_percentile(-self._forest.score_samples(self._X)))
        self._base_tail = _tail(self.base_pct_)

    def _update_forest(self, idx: np.ndarray, y: np.ndarray) -> None:
        from coniferest.label import Label

        if len(idx) == 0:
            self._learned = np.zeros(self.n_rows_)
            if self.strategy == "pine":
                self._forest = self._make_forest().fit(self._X)
            else:
                self._forest.evaluator.weights = self._aad_w0.copy()
            return
        lab = np.where(y == 1, Label.ANOMALY, Label.REGULAR).astype(np.int64)
        known = self._X[idx]
        if self.strategy == "aad":
            # re-solve from the unlabelled weights with all labels (not from the last solution)
            self._forest.evaluator.weights = self._aad_w0.copy()
            self._forest.fit_known(self._X, known, lab)
        else:
            # a fresh forest from the same seed each time: the result depends only on the labels
            self._forest = self._make_forest().fit_known(self._X, known, lab)
        q = _tail(_percentile(-self._forest.score_samples(self._X)))
        self._learned = q - self._q0

    def _check_fitted(self) -> None:
        if not hasattr(self, "base_pct_"):
            raise RuntimeError("ActiveRanker is not fitted; call fit(X, base_score) first")


def simulate_review(
    ranker: ActiveRanker,
    X,
    base_score,
    is_interesting,
    n_inspect: int = 100,
    retrain_every: int = 1,
) -> np.ndarray:
    """Oracle review loop: returns (n_inspect,) int64, interesting rows found after 1..n inspections.

    Fits ``ranker`` on (``X``, ``base_score``), then repeatedly inspects the top unlabelled
    row, labels it from the truth ``is_interesting`` (n,) bool, and calls
    :meth:`ActiveRanker.update` with all labels every ``retrain_every`` inspections.
    """
    truth = np.asarray(is_interesting).astype(bool)
    ranker.fit(X, base_score)
    if truth.shape != (ranker.n_rows_,):
        raise InputError(
            None, f"is_interesting has shape {truth.shape}, expected ({ranker.n_rows_},)"
        )
    n_inspect = min(int(n_inspect), ranker.n_rows_)
    retrain_every = max(int(retrain_every), 1)
    seen = np.zeros(n_inspect, dtype=np.int64)
    queue: list[int] = []
    for i in range(n_inspect):
        if not queue:
            queue = ranker.next_indices(retrain_every).tolist()
        seen[i] = queue.pop(0)
        if (i + 1) % retrain_every == 0 and i + 1 < n_inspect:
            ranker.update(seen[: i + 1], truth[seen[: i + 1]].astype(np.int64))
            queue = []
    return np.cumsum(truth[seen]).astype(np.int64)
