"""Trade-off fronts: knob sweeps, Pareto filtering, hypervolume, R2, knee, surrogate fronts, planning.

- :func:`front`: run selection methods over a grid of tradeoffs (and budgets), measure every result
  with ``measure``'s metrics and return the Pareto front of the objectives (default: quality_mean and
  vendi, both maximised), its hypervolume, R2 indicator and knee point, as a JSON-ready dict.
- :func:`front_from_table`: the same front from any table of knob settings and metrics.
- :func:`build_front`: the front of already-evaluated points.
- :func:`pareto_mask`, :func:`hypervolume`, :func:`r2_indicator`, :func:`knee_point`: the indicators.
- :class:`QuadraticSurrogate`, :func:`adaptive_evaluations`: MAP's quadratic surrogate fronts.
- :func:`plan_quality_quantity`: how much of a pool to keep for a training budget when kept data
  repeats (Goyal et al. 2024).
"""
from quadiv.front._pareto import (
    default_reference,
    hypervolume,
    knee_point,
    pareto_mask,
    parse_objectives,
    r2_indicator,
    weight_lattice,
)
from quadiv.front._plan import plan_quality_quantity
from quadiv.front._surrogate import QuadraticSurrogate, adaptive_evaluations
from quadiv.front._sweep import (
    DEFAULT_METHODS,
    DEFAULT_OBJECTIVES,
    build_front,
    front,
    front_from_table,
    parse_budgets,
    parse_grid,
)

__all__ = [
    "DEFAULT_METHODS", "DEFAULT_OBJECTIVES", "QuadraticSurrogate", "adaptive_evaluations", "build_front",
    "default_reference", "front", "front_from_table", "hypervolume", "knee_point", "pareto_mask", "parse_budgets",
    "parse_grid", "parse_objectives", "plan_quality_quantity", "r2_indicator", "weight_lattice",
]
