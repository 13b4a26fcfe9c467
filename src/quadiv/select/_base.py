"""The Selector interface, its result type and the registry every selection method joins.

A selector is a small class with plain constructor parameters (its method-specific knobs) and one
method, ``select``. The shared arguments mean the same thing for every method:

- ``X``: (n, d) embeddings, one row per item. :meth:`Selector.select` passes them through
  :func:`quadiv.geometry.unit_rows` before any method sees them: L2-normalised rows (cosine
  geometry; float32, float64 stays float64), every zero row (an item the embedder could not embed)
  one shared point.
- ``budget``: how many items to choose, 1 <= budget <= n.
- ``quality``: (n,) floats, higher is better, or None (all items equally good). Methods use
  :func:`unit_quality` (percentile ranks) so that the scale of the scores never changes what
  ``tradeoff`` means.
- ``tradeoff``: in [0, 1]; 0 = diversity only, 1 = quality only.
- ``groups``: (n,) labels (domain, generator...) or None.
- ``seed``: the only source of randomness.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from quadiv._registry import Registry
from quadiv.errors import UsageError, WorkerLost
from quadiv.geometry import unit_rows


@dataclass
class Selection:
    """The chosen items in selection order, and the value of the method's objective for them.

    ``higher_is_better`` says which way the objective points (False for covering radii: k-center, d3);
    ``tradeoff`` is the knob the selection ran at, recorded under one name for every method.
    """

    indices: np.ndarray
    objective: float
    method: str
    params: dict = field(default_factory=dict)
    gains: np.ndarray | None = None  # marginal gain of each pick, for greedy methods
    higher_is_better: bool = True
    tradeoff: float | None = None


class Selector:
    """Base class: subclasses set ``name`` and implement ``_select``; validation lives here."""

    name: ClassVar[str] = ""
    higher_is_better: ClassVar[bool] = True  # the direction of the objective the selection reports
    data_names: ClassVar[tuple[str, ...]] = ()  # what else select() takes: per-row arrays, a reusable cache
    engines: ClassVar[frozenset[str]] = frozenset({"local"})  # where it runs (quadiv.engine names)

    def select(
        self,
        X: np.ndarray,
        budget: int,
        quality: np.ndarray | None = None,
        tradeoff: float = 0.5,
        groups: np.ndarray | None = None,
        seed: int = 0,
        *,
        engine=None,
        **data,
    ) -> Selection:
        """Choose ``budget`` items of ``X``; ``data`` are the method's own inputs (:attr:`data_names`).

        ``engine`` (a :mod:`quadiv.engine` engine, default this process) runs the method where it can
        (:attr:`engines`); the picks are the ones this process makes. If a worker holding part of the
        state dies, the selection runs once more from its inputs (a second loss is the error).
        """
        if engine is not None:
            self.check_engine(engine.name)
            engine = None if engine.name == "local" else engine
        unknown = sorted(set(data) - set(self.data_names))
        if unknown:
            raise UsageError(f"method '{self.name}' takes no {', '.join(unknown)}; it takes "
                             f"{', '.join(self.data_names) or 'no data'} besides X, quality and groups")
        X = np.asarray(X)
        if X.ndim != 2:
            raise UsageError(f"embeddings must be a 2-D (n, d) array, got shape {X.shape}")
        X = unit_rows(X, keep_float64=True, engine=engine)
        n = X.shape[0]
        check_budget(budget, n)
        if not 0.0 <= float(tradeoff) <= 1.0:
            raise UsageError(f"tradeoff must lie in [0, 1] (0 = diversity only, 1 = quality only), got {tradeoff}")
        if quality is not None:
            quality = np.asarray(quality, dtype=np.float64)
            if quality.shape != (n,):
                raise UsageError(f"quality must have one value per item ({n}), got shape {quality.shape}")
            if not np.all(np.isfinite(quality)):
                bad = int(np.flatnonzero(~np.isfinite(quality))[0])
                raise UsageError(f"quality of item {bad} is {quality[bad]}: give every item a finite score")
        if groups is not None:
            groups = np.asarray(groups)
            if groups.shape != (n,):
                raise UsageError(f"groups must have one label per item ({n}), got shape {groups.shape}")
        if engine is not None:
            data["engine"] = engine
        try:
            result = self._select(X, int(budget), quality, float(tradeoff), groups, int(seed), **data)
        except WorkerLost:  # an actor holding shards died: the picks do not depend on the workers, run again
            if engine is None:
                raise
            result = self._select(X, int(budget), quality, float(tradeoff), groups, int(seed), **data)
        result.higher_is_better, result.tradeoff = self.higher_is_better, float(tradeoff)
        return result

    def check_engine(self, name: str) -> None:
        """A one-line error when this method cannot run on the engine called ``name``."""
        if name not in self.engines:
            able = ", ".join(method for method, cls in SELECTORS.items() if name in cls.engines)
            raise UsageError(f"method '{self.name}' runs on the local engine only; on '{name}' choose one of: {able}")

    def _select(self, X, budget, quality, tradeoff, groups, seed) -> Selection:  # pragma: no cover
        raise NotImplementedError(f"{type(self).__name__} must implement _select")


def check_budget(budget: int, n: int) -> None:
    """Raise a UsageError unless 1 <= budget <= n."""
    if int(budget) != budget or budget < 1:
        raise UsageError(f"budget must be a positive whole number, got {budget}")
    if budget > n:
        raise UsageError(f"budget {budget} is larger than the pool ({n} items): ask for at most {n}")


def budget_from(budget: int | None = None, fraction: float | None = None, *, n: int) -> int:
    """The number of items to choose out of ``n``: ``budget`` itself, or ``round(fraction * n)`` (at least 1).

    Exactly one of ``budget`` and ``fraction`` is given; ``budget`` must lie in [1, n], ``fraction`` in (0, 1].
    """
    if (budget is None) == (fraction is None):
        raise UsageError("give exactly one of `budget` N or `fraction` F")
    if fraction is not None:
        if not 0 < fraction <= 1:
            raise UsageError(f"`fraction` must lie in (0, 1], got {fraction}")
        return max(1, round(fraction * n))
    check_budget(budget, n)
    return budget


def unit_quality(quality: np.ndarray | None, n: int) -> np.ndarray:
    """Quality as a mid-rank percentile in [0, 1], float64 (all ones when None or constant).

    q~_i = (r_i - r_min) / (r_max - r_min), r_i the rank of q_i among all scores with ties sharing
    their mean rank (so the lowest score maps to 0, the highest to 1, and two labels stay 0 and 1).
    Ranks make ``tradeoff`` independent of the scores' scale and of any monotone transform of them (a
    reward model's logits, a judge's 1-10, a win probability give the same selections), and keep a few
    extreme scores from squashing the rest: on AlpacaEval's preference labels (mean 0.06 on [0, 1])
    min-max left most items near 0, and facility location, dpp and mmr at tradeoff 0.5 then fell below
    a random sample on Vendi with MiniLM embeddings (bench/bench_select_real.py, BENCHMARKS.md).
    """
    if quality is None:
        return np.ones(n)
    from scipy.stats import rankdata

    return min_max(rankdata(quality, method="average"))


def min_max(values: np.ndarray) -> np.ndarray:
    """(v - min) / (max - min) as float64 (all ones when constant): the scaling QuaDMix and D3 specify."""
    values = np.asarray(values, dtype=np.float64)
    lo, hi = float(np.min(values)), float(np.max(values))
    return np.ones(values.shape) if hi - lo <= 0 else (values - lo) / (hi - lo)


SELECTORS: Registry[type[Selector]] = Registry("selection method", "method", checks_params=True)
register = SELECTORS.register  # the class decorator every selection method is registered with


def get_selector(method: str, **params) -> Selector:
    """Build the registered selector called ``method`` with its method-specific parameters."""
    return SELECTORS.build(method, **params)


def select(
    X: np.ndarray,
    budget: int,
    method: str = "facility-location",
    quality: np.ndarray | None = None,
    tradeoff: float = 0.5,
    groups: np.ndarray | None = None,
    seed: int = 0,
    engine=None,
    **params,
) -> Selection:
    """Choose ``budget`` items of ``X`` with the registered ``method``; see the module docstring.

    ``engine`` runs it elsewhere (``quadiv.engine.get_engine("ray")``) for the methods that can.

    ``params`` are the method's parameters, and its data (``difficulty=`` for d3, ...) by name.
    """
    names = SELECTORS.entry(method).data_names
    data = {k: params.pop(k) for k in list(params) if k in names}
    return get_selector(method, **params).select(X, budget, quality, tradeoff, groups, seed, engine=engine, **data)


