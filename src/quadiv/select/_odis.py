"""ODiS: the best items along each orthogonal direction of a score matrix, united."""
from __future__ import annotations

import itertools

import numpy as np

from quadiv.errors import UsageError
from quadiv.select._base import Selection, Selector, register


def standardise(scores: np.ndarray) -> np.ndarray:
    """Each column z-scored, (s - mean) / std (population std); a constant column becomes zeros."""
    spread = scores.std(axis=0)
    return np.divide(scores - scores.mean(axis=0), spread, out=np.zeros_like(scores), where=spread > 0)


def oriented_components(scores: np.ndarray, components: int | None = None,
                        min_variance: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Principal components of the standardised score columns, each oriented so that larger is better.

    Z = the columns of ``scores`` z-scored (a constant column is all zeros); R = Z^T Z / n (their
    correlation matrix) = V diag(lambda) V^T with lambda descending; component j is Z v_j, its sign chosen
    so that its loading on the mean score, cov(Z v_j, Z 1 / m) = lambda_j (v_j . 1) / m, is positive (the
    largest loading positive when v_j . 1 = 0). Kept: the first ``components``, or else every component
    with lambda_j >= ``min_variance`` x mean(lambda) (at least one).
    Returns (the (n, kept) component scores, the share of the variance each explains).
    """
    Z = standardise(scores)
    lam, V = np.linalg.eigh(Z.T @ Z / len(Z))
    lam, V = np.clip(lam[::-1], 0.0, None), V[:, ::-1]
    kept = components if components is not None else max(1, int(np.count_nonzero(lam >= min_variance * lam.mean())))
    if kept > len(lam):
        raise UsageError(f"odis `components` is {kept} but the score matrix has only {len(lam)} columns")
    V = V[:, :kept]
    mean_loading = V.sum(axis=0)
    largest = V[np.abs(V).argmax(axis=0), np.arange(kept)]
    V = V * np.where(np.abs(mean_loading) > 1e-12, np.sign(mean_loading), np.sign(largest))
    total = lam.sum()
    return Z @ V, lam[:kept] / total if total > 0 else np.zeros(kept)


@register
class ODiSSelector(Selector):
    """ODiS: the top items along each orthogonal (PCA) direction of several scores, united.

    Orthogonal diversity-aware selection (He et al. 2025, "Learning from the Best, Differently",
    arXiv 2510.18909). Items are scored on several dimensions (the (n, m) ``scores`` given to ``select``,
    with ``quality`` as one more first column when both are given); the score matrix is decorrelated by PCA into orthogonal
    components (:func:`oriented_components`), the top ``budget / k`` items of each of the k components are
    taken (the first ``budget mod k`` components take one more; ties by lower index) and united, and when
    the selections overlap the next-best items of the first component fill the budget (``params['filled']``).
    With ``quality`` alone this is top-k on quality. The paper trains a regressor per component to score a
    whole corpus; here the scores are given. Its component count, quotas, standardisation and sign rule
    are unverified (abstract only, METHODS.md section 5): the defaults here are quadiv's.

    ``tradeoff`` and ``groups`` do not change the selection (the diversity comes from the orthogonal
    directions). ``objective`` is the mean over the chosen items of their mean standardised score.
    ``params`` record the variance share of each component, the quotas and the largest overlap between two
    components' selections (|A & B| / min(|A|, |B|); the paper reports under 2 %).

    Parameters:
        components: how many components to keep (default: by ``min_variance``).
        min_variance: keep each component whose variance is at least this share of the mean variance.
    """

    name = "odis"
    data_names = ("scores",)  # an (n, m) score matrix, given to select()

    def __init__(self, components: int | None = None, min_variance: float = 0.5):
        if components is not None and (isinstance(components, bool) or not isinstance(components, int)
                                       or components < 1):
            raise UsageError(f"odis `components` must be a positive integer, got {components!r}")
        if not min_variance >= 0:
            raise UsageError(f"odis `min_variance` must be at least 0, got {min_variance}")
        self.components = components
        self.min_variance = float(min_variance)

    def _select(self, X, budget, quality, tradeoff, groups, seed, scores=None) -> Selection:
        n = X.shape[0]
        matrix = score_matrix(quality, scores, n)
        C, explained = oriented_components(matrix, self.components, self.min_variance)
        k = C.shape[1]
        quotas = [budget // k + (j < budget % k) for j in range(k)]
        ranked = [np.lexsort((np.arange(n), -C[:, j])) for j in range(k)]
        tops = [rank[:quota] for rank, quota in zip(ranked, quotas)]
        chosen = list(dict.fromkeys(int(i) for i in itertools.chain.from_iterable(tops)))
        filled = budget - len(chosen)
        if filled:
            taken = set(chosen)
            chosen += [int(i) for i in ranked[0] if int(i) not in taken][:filled]
        indices = np.asarray(chosen, dtype=np.int64)
        overlap = max((len(np.intersect1d(a, b)) / max(1, min(len(a), len(b)))
                       for a, b in itertools.combinations(tops, 2)), default=0.0)
        return Selection(indices=indices, objective=float(standardise(matrix)[indices].mean()), method=self.name,
                         params={"components": k, "explained_variance": explained.tolist(), "quotas": quotas,
                                 "overlap": float(overlap), "filled": int(filled)})


def score_matrix(quality: np.ndarray | None, scores: np.ndarray | None, n: int) -> np.ndarray:
    """The (n, m) float64 matrix ODiS decorrelates: quality (when given) then the columns of ``scores``."""
    if scores is None and quality is None:
        raise UsageError("method 'odis' needs scores: pass scores (CLI: --score-fields) or quality "
                         "(CLI: --quality-field)")
    columns = [] if quality is None else [np.asarray(quality, dtype=np.float64)[:, None]]
    if scores is not None:
        matrix = np.asarray(scores, dtype=np.float64)
        matrix = matrix[:, None] if matrix.ndim == 1 else matrix
        if matrix.ndim != 2 or matrix.shape[0] != n or matrix.shape[1] == 0 or not np.all(np.isfinite(matrix)):
            raise UsageError(f"`scores` must be a finite (n, m) array with n = {n} rows, got shape "
                             f"{np.shape(scores)}")
        columns.append(matrix)
    return np.hstack(columns)
