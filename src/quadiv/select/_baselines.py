"""Baseline selectors: uniform random, highest quality first, and greedy k-center.

All take unit rows (zero rows as one shared point, see :func:`quadiv.geometry.unit_rows`) and quality rescaled by :func:`unit_quality` (q~ in [0, 1]).
"""
from __future__ import annotations

import functools
from typing import ClassVar

import numpy as np

from quadiv.errors import UsageError
from quadiv.geometry import FarthestShard
from quadiv.select._base import Selection, Selector, register, unit_quality
from quadiv.select._shards import open_shards, sharded_greedy


@register
class RandomSelector(Selector):
    """Uniform sample without replacement, seeded: every subset of size k equally likely.

    ``objective`` is the mean unit quality (1/k) sum_{j in S} q~_j (1.0 without quality); quality,
    tradeoff and groups do not change the draw.
    """

    name: ClassVar[str] = "random"

    def _select(self, X, budget, quality, tradeoff, groups, seed) -> Selection:
        n = X.shape[0]
        indices = np.random.default_rng(seed).choice(n, size=budget, replace=False).astype(np.int64)
        return Selection(indices=indices, objective=float(unit_quality(quality, n)[indices].mean()),
                         method=self.name, params={"seed": seed})


@register
class TopQuality(Selector):
    """The k items of highest quality, best first, ties broken by lower index.

    S = argmax_{|S| = k} sum_{j in S} q_j; ``objective`` is the mean unit quality of S. ``tradeoff`` is
    ignored; quality is required.
    """

    name: ClassVar[str] = "top-quality"

    def _select(self, X, budget, quality, tradeoff, groups, seed) -> Selection:
        if quality is None:
            raise UsageError("method 'top-quality' needs quality scores: pass quality (CLI: --quality-field)")
        n = X.shape[0]
        indices = np.lexsort((np.arange(n), -quality))[:budget].astype(np.int64)
        return Selection(indices=indices, objective=float(unit_quality(quality, n)[indices].mean()),
                         method=self.name, params={})


@register
class KCenter(Selector):
    """Greedy farthest-point k-center (Gonzalez 1985), optionally quality-augmented.

    Each step adds argmax_j score_j with score_j = (1 - t) * d_j / 2 + t * q~_j, where
    d_j = min_{s in S} ||x_j - x_s||_2 on unit rows (in [0, 2], so d_j / 2 and q~_j share the scale
    [0, 1]). At t = 0 this is Gonzalez's algorithm, a 2-approximation of the minimum covering radius
    (T. F. Gonzalez 1985, "Clustering to minimize the maximum intercluster distance", Theoret. Comput.
    Sci. 38, Sec. 2). The first item is the highest-quality one (lowest index among ties) when quality
    is given, else a uniform draw with ``seed``. ``objective`` is the covering radius
    max_i min_{s in S} ||x_i - x_s||_2 (lower is better); ``gains`` are the scores at pick time.
    """

    name: ClassVar[str] = "k-center"
    engines: ClassVar[frozenset[str]] = frozenset({"local", "ray"})  # the same picks on either
    higher_is_better: ClassVar[bool] = False  # the objective is a covering radius

    def _select(self, X, budget, quality, tradeoff, groups, seed, engine=None) -> Selection:
        n = X.shape[0]
        q = unit_quality(quality, n)
        rng = np.random.default_rng(seed)
        first = int(np.argmax(quality)) if quality is not None else int(rng.integers(n))
        score = functools.partial(_kcenter_score, tradeoff)
        with open_shards(engine, X, [q], functools.partial(FarthestShard, score=score)) as shards:
            first_score = score(np.full(1, 2.0), q[first:first + 1])[0]  # every distance starts at 2
            indices, gains, answers = sharded_greedy(shards, X.__getitem__, budget, first=(first, first_score))
        where = {"engine": engine.name, "shards": len(answers)} if engine else {}
        return Selection(indices=indices, objective=max(answer[2] for answer in answers), method=self.name,
                         params={"first": first, **where}, gains=gains)


def _kcenter_score(tradeoff: float, d: np.ndarray, q: np.ndarray) -> np.ndarray:
    """(1 - t) d / 2 + t q~: a module function, so that a Ray worker can unpickle it."""
    return (1.0 - tradeoff) * d / 2.0 + tradeoff * q
