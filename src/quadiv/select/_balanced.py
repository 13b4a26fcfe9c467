"""Group-balanced selection: equal (or target) shares per group, quality/diversity ranking inside groups."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from quadiv.errors import UsageError
from quadiv.geometry import euclidean_to, farthest_point_greedy
from quadiv.select._base import Selection, Selector, register, unit_quality
from quadiv.select._cluster import allocate


def group_greedy(X: np.ndarray, q: np.ndarray, count: int, tradeoff: float, order: np.ndarray) -> np.ndarray:
    """``count`` items of one group by greedy argmax of t * q(x) + (1 - t) * d(x, S) / 2.

    d(x, S) is the Euclidean distance to the nearest item already taken from this group (taken as 2,
    the diameter of the unit sphere, for the first pick), so t = 1 is the top-quality ranking and t = 0
    farthest-first traversal (greedy k-center). ``order`` is a random permutation of the group that
    breaks ties.
    """
    Xg, qg = X[order], q[order]
    picks, _, _ = farthest_point_greedy(euclidean_to(Xg), lambda d: tradeoff * qg + (1.0 - tradeoff) * d / 2.0,
                                        len(order), count)
    return order[picks]


@register
class BalancedSelector(Selector):
    """Group-balanced selection: budget split across groups by target shares, greedy inside each group.

    Counts: n_g = budget * s_g / sum_h s_h by largest remainder (s = ``shares``, equal by default). A
    group with fewer items than its count gives all its items and its unused share is re-apportioned
    among the groups with items left, in proportion to their shares (groups with a zero share are used
    only once every group with a positive share is exhausted). When every group has room the counts
    are exactly the target shares up to rounding.

    Inside a group: greedy argmax of t * q(x) + (1 - t) * d(x, S_g) / 2 with q the unit quality and
    d the distance to the group's items already taken: t = 1 takes the group's top-quality items, t = 0
    is farthest-first (k-center) coverage of the group, values between trade one for the other.

    Reference: group-balanced ("equitable") subset selection, in the spirit of adaptive
    group-balanced sampling for equitable training datasets; the budget rule is the standard
    proportional (largest-remainder) apportionment with capacity limits.
    """

    name = "balanced"

    def __init__(self, shares: Mapping | None = None):
        if shares is not None and any(float(v) < 0 for v in shares.values()):
            raise UsageError("shares must be non-negative weights per group")
        self.shares = None if shares is None else dict(shares)

    def _select(self, X, budget, quality, tradeoff, groups, seed) -> Selection:
        if groups is None:
            raise UsageError("method 'balanced' needs group labels: pass groups (CLI: --group-field)")
        n = X.shape[0]
        names, codes = np.unique(groups, return_inverse=True)
        sizes = np.bincount(codes, minlength=len(names))
        counts = allocate(budget, self._weights(names), sizes)
        q = unit_quality(quality, n)
        X64 = np.asarray(X, dtype=np.float64)
        rng = np.random.default_rng(seed)
        parts = [group_greedy(X64, q, int(counts[g]), tradeoff, rng.permutation(np.flatnonzero(codes == g)))
                 for g in range(len(names)) if counts[g] > 0]
        indices = np.concatenate(parts)
        return Selection(indices=indices, objective=float(q[indices].mean()), method=self.name,
                         params={"shares": self.shares,
                                 "counts": {str(name): int(c) for name, c in zip(names, counts)}})

    def _weights(self, names: np.ndarray) -> np.ndarray:
        if self.shares is None:
            return np.ones(len(names))
        known = {str(name) for name in names}
        unknown = [str(key) for key in self.shares if str(key) not in known]
        if unknown:
            raise UsageError(f"shares name group(s) not in the data: {', '.join(unknown[:5])}; "
                             f"groups are: {', '.join(sorted(known)[:10])}")
        by_name = {str(key): float(value) for key, value in self.shares.items()}
        weights = np.array([by_name.get(str(name), 0.0) for name in names])
        if weights.sum() <= 0:
            raise UsageError("shares must give at least one group a positive weight")
        return weights
