"""Predictive diversity of an ensemble of classifiers: Jensen gap, Brier variance, disagreement."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from quadiv.errors import UsageError

_SUM_TOLERANCE = 1e-6


def ensemble_diversity(probs: np.ndarray | Sequence[np.ndarray], labels: np.ndarray | Sequence[int]) -> dict:
    """Loss and diversity of an ensemble from its members' predictive distributions.

    ``probs`` is (M members, N items, C classes), each row a distribution f_i(x) over the classes;
    ``labels`` the N true classes y. The ensemble is the mean f̄ = (1/M) sum_i f_i, and

        log loss    L(f) = (1/N) sum_x -log f_y(x)          Brier  B(f) = (1/N) sum_x ||f(x) - e_y||^2
        jensen_gap       = (1/N) sum_x [log f̄_y(x) - (1/M) sum_i log f_i,y(x)] >= 0
                         = mean member log loss - ensemble log loss            (exact)
        brier_variance   = (1/N) sum_x (1/M) sum_i ||f_i(x) - f̄(x)||^2 >= 0
                         = mean member Brier - ensemble Brier                  (ambiguity decomposition)
        disagreement     = (1/M) sum_i (1/N) sum_x 1[argmax f_i(x) != argmax f̄(x)]

    (first index wins a tie of the argmax). Abe, Buchanan, Pleiss, Cunningham (2024), "Pathologies of
    Predictive Diversity in Deep Ensembles", TMLR (arXiv 2302.00704): diversity is the gap between the
    members' mean loss and the ensemble's loss, so it only helps when it does not cost member quality;
    report both. The paper's exact set of measures is unverified here (recalled, METHODS.md section 6);
    the two decompositions are exact identities. A zero probability on the true class gives an
    infinite log loss.

    Returns ``ensemble_log_loss``, ``ensemble_brier``, ``ensemble_accuracy``, ``mean_member_log_loss``,
    ``mean_member_brier``, ``jensen_gap``, ``brier_variance``, ``disagreement`` and ``members``: one
    ``{"accuracy", "log_loss", "brier"}`` per member.
    """
    p, y = _check(probs, labels)
    n_items = p.shape[1]
    items = np.arange(n_items)
    mean = p.mean(axis=0)
    onehot = np.zeros(p.shape[1:])
    onehot[items, y] = 1.0
    with np.errstate(divide="ignore"):
        member_log = np.log(p[:, items, y])  # (M, N)
        ensemble_log = np.log(mean[items, y])
    member_nll = -member_log.mean(axis=1)
    member_brier = ((p - onehot) ** 2).sum(axis=2).mean(axis=1)
    member_pred = p.argmax(axis=2)
    ensemble_pred = mean.argmax(axis=1)
    with np.errstate(invalid="ignore"):
        gap = float((ensemble_log - member_log.mean(axis=0)).mean())
    return {
        "ensemble_log_loss": float(-ensemble_log.mean()),
        "ensemble_brier": float(((mean - onehot) ** 2).sum(axis=1).mean()),
        "ensemble_accuracy": float((ensemble_pred == y).mean()),
        "mean_member_log_loss": float(member_nll.mean()),
        "mean_member_brier": float(member_brier.mean()),
        "jensen_gap": gap,
        "brier_variance": float(((p - mean) ** 2).sum(axis=2).mean()),
        "disagreement": float((member_pred != ensemble_pred).mean()),
        "members": [{"accuracy": float(acc), "log_loss": float(nll), "brier": float(brier)}
                    for acc, nll, brier in zip((member_pred == y).mean(axis=1), member_nll, member_brier)],
    }


def _check(probs: np.ndarray | Sequence[np.ndarray], labels: np.ndarray | Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """`probs` as a finite (M, N, C) float64 array of distributions and `labels` as N class indices."""
    members = [np.asarray(m, dtype=np.float64) for m in probs]
    if not members:
        raise UsageError("`probs` has no members; give an (members, items, classes) array")
    shapes = sorted({m.shape for m in members})
    if len(shapes) != 1:
        raise UsageError(f"every member of `probs` must have the same (items, classes) shape; got {shapes}")
    p = np.asarray(members, dtype=np.float64)
    if p.ndim != 3 or 0 in p.shape:
        raise UsageError(f"`probs` must be a non-empty (members, items, classes) array; got shape {p.shape}")
    if not np.all(np.isfinite(p)) or p.min() < 0:
        raise UsageError("`probs` must hold finite, non-negative probabilities")
    off = np.abs(p.sum(axis=2) - 1.0)
    if off.max() > _SUM_TOLERANCE:
        member, item = np.unravel_index(int(off.argmax()), off.shape)
        raise UsageError(f"`probs` of member {member}, item {item} sum to {p[member, item].sum():.9g}, not 1 "
                         f"(within {_SUM_TOLERANCE:g})")
    y = np.asarray(labels)
    if y.shape != (p.shape[1],) or y.dtype.kind not in "iu":
        raise UsageError(f"`labels` must be {p.shape[1]} integer classes, one per item; got shape {y.shape}, "
                         f"dtype {y.dtype}")
    bad = np.flatnonzero((y < 0) | (y >= p.shape[2]))
    if bad.size:
        raise UsageError(f"`labels` must lie in [0, {p.shape[2] - 1}]; item {int(bad[0])} has {int(y[bad[0]])}")
    return p, y.astype(np.int64)
