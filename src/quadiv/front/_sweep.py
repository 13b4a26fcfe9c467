"""Knob sweeps: run selection methods over tradeoffs (and budgets), measure each result, build the front.

Every evaluated setting becomes a point ``{"method", "params", "metrics"}`` whose metrics are the ones
``measure`` reports (the same names, the same functions); :func:`build_front` marks the Pareto points
of the chosen objectives and adds the hypervolume, the R2 indicator and the knee. Any table of knob
settings and metrics (a temperature sweep of a generator, a grid of merge coefficients) goes through
the same :func:`build_front` by :func:`front_from_table`.

Work shared across a sweep: the embeddings are normalised once; texts are tokenised once (subsets
reuse the tokens); each method's selector is built once, and a selector that accepts a ``cache``
(facility location) keeps its n x n similarities or kNN graph in it, so they are computed once per
method instead of once per tradeoff.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from quadiv.errors import InputError, UsageError
from quadiv.front._pareto import hypervolume, knee_point, pareto_mask, parse_objectives, r2_indicator
from quadiv.front._surrogate import DENSE_POINTS, adaptive_evaluations, dense_grid, fit_report, n_basis
from quadiv.geometry import unit_rows
from quadiv.measure import Sample, compute, default_metrics, missing_input, parse_metrics
from quadiv.select import SELECTORS, get_selector

DEFAULT_METHODS = ("facility-location", "dpp", "mmr", "cluster")
DEFAULT_OBJECTIVES = {"quality_mean": "max", "vendi": "max"}
DEFAULT_TRADEOFFS = "0:1:11"
GROUP_METRICS = ("worst_group_quality", "group_p20_quality", "group_gini_quality", "harmony_quality")


def parse_grid(spec: str | Sequence[float]) -> np.ndarray:
    """'0:1:11' -> numpy.linspace(0, 1, 11); '0,0.25,1' or a list -> those values, in the order given."""
    if not isinstance(spec, str):
        values = np.asarray(spec, dtype=np.float64).ravel()
    elif ":" in spec:
        parts = spec.split(":")
        try:
            start, stop, num = float(parts[0]), float(parts[1]), int(parts[2])
        except (ValueError, IndexError):
            raise UsageError(f"a grid is START:STOP:COUNT (e.g. 0:1:11) or a comma list, got '{spec}'") from None
        if len(parts) != 3 or num < 1:
            raise UsageError(f"a grid is START:STOP:COUNT with COUNT >= 1 (e.g. 0:1:11), got '{spec}'")
        values = np.linspace(start, stop, num)
    else:
        try:
            values = np.array([float(v) for v in spec.split(",") if v.strip()])
        except ValueError:
            raise UsageError(f"a grid is START:STOP:COUNT (e.g. 0:1:11) or a comma list, got '{spec}'") from None
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise UsageError(f"the grid needs at least one finite value, got {spec!r}")
    return values


def parse_budgets(spec: int | str | Sequence[int]) -> list[int]:
    """1000 or '500,1000' -> [500, 1000]."""
    parts = spec.split(",") if isinstance(spec, str) else np.atleast_1d(spec).tolist()
    try:
        budgets = [int(p) for p in parts if str(p).strip()]
    except ValueError:
        raise UsageError(f"`budget` takes a whole number or a comma list of them, got '{spec}'") from None
    if not budgets or any(b < 1 for b in budgets):
        raise UsageError(f"every budget must be a positive whole number, got '{spec}'")
    return budgets


def build_front(points: Sequence[Mapping], objectives: Mapping[str, str] | str,
                reference: Sequence[float] | None = None) -> dict:
    """The Pareto points, hypervolume, R2 indicator and knee of evaluated points.

    ``points``: ``{"method", "params", "metrics"}`` dicts. Returns ``{"objectives", "points" (each with
    "pareto"), "pareto" (indices), "hypervolume", "r2", "knee"}``; see :mod:`quadiv.front._pareto`.
    R2 uses the hypervolume's reference point as the far corner of its normalisation box.
    """
    objectives = parse_objectives(objectives)
    names, senses = list(objectives), list(objectives.values())
    if not points:
        raise UsageError("a front needs at least one evaluated point")
    for i, point in enumerate(points):
        missing = [n for n in names if n not in point["metrics"]]
        if missing:
            raise UsageError(f"point {i} has no value for objective(s) {', '.join(missing)}; "
                             f"it has: {', '.join(point['metrics'])}")
    values = np.array([[p["metrics"][n] for n in names] for p in points], dtype=np.float64)
    mask = pareto_mask(values, senses)
    hv = hypervolume(values, senses, reference)
    return {"objectives": dict(objectives),
            "points": [{**p, "pareto": bool(m)} for p, m in zip(points, mask)],
            "pareto": np.flatnonzero(mask).tolist(),
            "hypervolume": hv,
            "r2": r2_indicator(values, senses, reference=hv["reference"]),
            "knee": knee_point(values, senses, mask)}


@dataclass
class SweepData:
    """The pool prepared once for a sweep: unit embeddings, a tokenised sample, quality and groups."""

    X: np.ndarray
    sample: Sample
    quality: np.ndarray | None
    groups: np.ndarray | None
    metrics: list[str]

    def measure(self, indices: np.ndarray) -> dict[str, float]:
        """``measure``'s overall metrics of the chosen items (group spread too when groups are given)."""
        out = compute(self.metrics, self.sample.subset(indices))
        if self.groups is not None and self.quality is not None:
            from quadiv.measure import group_spread

            out.update(group_spread(self.quality[indices], self.groups[indices])[0])
        return out


def prepare(X: np.ndarray, texts: Sequence[str] | None, quality: np.ndarray | None, groups: np.ndarray | None,
            metrics: Sequence[str] | str | None, objectives: Mapping[str, str], seed: int) -> SweepData:
    """Check inputs and metric names, normalise X and tokenise the texts once."""
    X = unit_rows(X)
    n = X.shape[0]
    for name, arr in (("texts", texts), ("quality", quality), ("groups", groups)):
        if arr is not None and len(arr) != n:
            raise UsageError(f"{name} must describe the {n} embedded items, got {len(arr)}")
    names = parse_metrics(metrics) if metrics is not None else default_metrics(
        embeddings=True, texts=texts is not None, quality=quality is not None)
    spread = groups is not None and quality is not None
    for name in objectives:
        if name in GROUP_METRICS and not spread:
            raise UsageError(f"objective '{name}' needs groups and quality scores (`group_field`, `quality_field`)")
    names += [o for o in objectives if o not in names and o not in GROUP_METRICS]
    for name in parse_metrics(names):
        lacking = missing_input(name, X=True, texts=texts is not None, quality=quality is not None)
        if lacking:
            raise UsageError(f"metric '{name}' needs {lacking}, which this run does not have")
    quality = None if quality is None else np.asarray(quality, dtype=np.float64)
    groups = None if groups is None else np.asarray(groups)
    sample = Sample(X, None if texts is None else list(texts), quality, seed=seed, groups=groups).prepare(names)
    return SweepData(X, sample, quality, groups, list(names))


def _selector(method: str, params: Mapping | None):
    """The method's selector and its select() extras: a fresh shared cache when it takes one."""
    selector = get_selector(method, **dict(params or {}))  # an unknown method raises UnknownNameError
    return selector, ({"cache": {}} if "cache" in selector.data_names else {})


def sweep(
    data: SweepData,
    budgets: Sequence[int],
    methods: Sequence[str],
    tradeoffs: np.ndarray,
    objectives: Mapping[str, str],
    *,
    seed: int = 0,
    method_params: Mapping[str, Mapping] | None = None,
    budget_evals: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[dict], dict]:
    """Every method at every (tradeoff, budget), or at ``budget_evals`` settings chosen by the surrogate.

    Returns the points and a list of per-method quadratic-surrogate reports (MAP; see
    :mod:`quadiv.front._surrogate`): with ``budget_evals`` the adaptive run's out-of-sample agreement
    and predicted front, else the fit of the grid's measurements (in-sample R^2, leave-one-out error;
    only when the grid has more settings than the quadratic has coefficients).
    """
    knob_names = ["tradeoff", "budget"] if len(budgets) > 1 else ["tradeoff"]
    grid = np.array(list(itertools.product(tradeoffs, budgets)), dtype=np.float64)[:, :len(knob_names)]
    single_budget = budgets[0]
    points, report = [], []
    for method in methods:
        selector, extras = _selector(method, (method_params or {}).get(method))

        def evaluate(knobs: np.ndarray, method=method, selector=selector, extras=extras) -> dict:
            t = float(knobs[0])
            b = round(float(knobs[1])) if len(knobs) > 1 else single_budget
            chosen = selector.select(data.X, b, data.quality, t, data.groups, seed, **extras).indices
            metrics = data.measure(chosen)
            points.append({"method": method, "params": {"tradeoff": round(t, 12), "budget": b}, "metrics": metrics})
            if progress is not None:
                progress(1)
            return metrics

        if budget_evals is None:
            done = [(knobs, evaluate(knobs)) for knobs in grid]
            fit = _grid_report(done, knob_names, objectives)
            if fit is not None:
                report.append({"method": method, **fit})
        else:
            axes = [np.linspace(tradeoffs.min(), tradeoffs.max(), DENSE_POINTS)] + (
                [np.asarray(budgets, dtype=np.float64)] if len(budgets) > 1 else [])
            _, adaptive = adaptive_evaluations(evaluate, grid, dense_grid(axes), objectives, budget_evals)
            adaptive["predicted_front"] = [{"params": _knob_params(k, knob_names, single_budget), "metrics": m}
                                           for k, m in adaptive["predicted_front"]]
            report.append({"method": method, "knobs": knob_names, **adaptive})
    return points, report


def _knob_params(knobs: np.ndarray, names: Sequence[str], budget: int) -> dict:
    params = {"tradeoff": round(float(knobs[0]), 12), "budget": budget}
    if len(names) > 1:
        params["budget"] = round(float(knobs[1]))
    return params


def _grid_report(done: list, knob_names: list[str], objectives: Mapping[str, str]) -> dict | None:
    """The quadratic fit of a grid's measurements, when there are more points than coefficients."""
    knobs = np.array([k for k, _ in done])
    if len(done) <= n_basis(knobs.shape[1]):
        return None
    targets = np.array([[m[o] for o in objectives] for _, m in done], dtype=np.float64)
    if not np.all(np.isfinite(targets)):
        return None
    return fit_report(knobs, targets, knob_names, list(objectives))


def front(
    X: np.ndarray,
    budget: int | Sequence[int],
    *,
    methods: Sequence[str] = DEFAULT_METHODS,
    tradeoffs: str | Sequence[float] = DEFAULT_TRADEOFFS,
    objectives: Mapping[str, str] | str = DEFAULT_OBJECTIVES,
    quality: np.ndarray | None = None,
    texts: Sequence[str] | None = None,
    groups: np.ndarray | None = None,
    metrics: Sequence[str] | str | None = None,
    reference: Sequence[float] | None = None,
    budget_evals: int | None = None,
    seed: int = 0,
    method_params: Mapping[str, Mapping] | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Sweep selection methods over tradeoffs (and budgets) and return the measured trade-off front.

    Each (method, tradeoff, budget) is selected with ``quadiv.select`` and measured with ``measure``'s
    metrics (``metrics`` or its defaults, plus the objectives). Result: :func:`build_front`'s dict plus
    ``"methods"``, ``"tradeoffs"``, ``"budget"`` (a list when several), ``"metrics"`` and ``"surrogate"``
    (a list of per-method fits).
    ``budget_evals`` = K evaluates K settings per method chosen by the quadratic surrogate instead of
    the whole grid.
    """
    objectives = parse_objectives(objectives)
    budgets = parse_budgets(budget)
    grid = parse_grid(tradeoffs)
    if grid.min() < 0 or grid.max() > 1:
        raise UsageError(f"tradeoffs must lie in [0, 1] (0 = diversity only, 1 = quality only), got {grid.tolist()}")
    methods = list(methods)
    if not methods:
        raise UsageError("give at least one selection method")
    for method in methods:
        SELECTORS.entry(method)  # an unknown method fails before any work
    data = prepare(X, texts, quality, groups, metrics, objectives, seed)
    points, surrogate = sweep(data, budgets, methods, grid, objectives, seed=seed, method_params=method_params,
                              budget_evals=budget_evals, progress=progress)
    result = build_front(points, objectives, reference)
    result.update({"methods": methods, "tradeoffs": grid.tolist(), "budget": budgets[0] if len(budgets) == 1
                   else budgets, "metrics": data.metrics, "surrogate": surrogate})
    return result


def front_from_table(table: pa.Table | Sequence[Mapping], objectives: Mapping[str, str] | str,
                     reference: Sequence[float] | None = None, *, path: str | None = None) -> dict:
    """The front of finished results: one row per setting, knob columns and metric columns.

    The objective columns are the metrics; every other column is a param of the point, except
    ``method`` (the point's method; "table" when absent) and ``id`` (the point's label). The quadratic
    surrogate is fitted over the numeric params of each method (and each combination of its
    non-numeric params) that has more rows than quadratic coefficients.
    """
    from quadiv import io

    objectives = parse_objectives(objectives)
    if not isinstance(table, pa.Table):
        table = pa.Table.from_pylist([dict(r) for r in table])
    missing = [o for o in objectives if o not in table.column_names]
    if missing:
        raise InputError(f"no column {', '.join(missing)} for the objectives (columns: "
                         f"{', '.join(table.column_names)})", path=path, fix="name existing columns in `objectives`")
    metrics = {o: io.float_column(table, o, path=path) for o in objectives}
    knobs = [c for c in table.column_names if c not in objectives and c not in ("id", "method")]
    rows = table.select(knobs).to_pylist()
    methods = [str(m) for m in table["method"].to_pylist()] if "method" in table.column_names else \
        ["table"] * table.num_rows
    ids = table["id"].to_pylist() if "id" in table.column_names else None
    points = []
    for i in range(table.num_rows):
        point = {"method": methods[i], "params": rows[i], "metrics": {o: float(metrics[o][i]) for o in objectives}}
        if ids is not None:
            point["id"] = ids[i]
        points.append(point)
    result = build_front(points, objectives, reference)
    numeric = [c for c in knobs if _is_numeric(table.schema.field(c).type)]
    result["surrogate"] = _table_surrogates(points, numeric, [c for c in knobs if c not in numeric], objectives)
    if path is not None:
        result["input"] = str(path)
    return result


def _is_numeric(dtype: pa.DataType) -> bool:
    return pa.types.is_integer(dtype) or pa.types.is_floating(dtype)


def _table_surrogates(points: list[dict], numeric: list[str], other: list[str],
                      objectives: Mapping[str, str]) -> list[dict]:
    """One quadratic fit per (method, non-numeric params) group with enough complete rows."""
    if not numeric:
        return []
    groups: dict[tuple, list[dict]] = {}
    for p in points:
        key = (p["method"], *(repr(p["params"][c]) for c in other))
        groups.setdefault(key, []).append(p)
    out = []
    for members in groups.values():
        knobs = np.array([[p["params"][c] for c in numeric] for p in members], dtype=np.float64)
        if len(members) <= n_basis(len(numeric)) or not np.all(np.isfinite(knobs)):
            continue
        targets = np.array([[p["metrics"][o] for o in objectives] for p in members])
        head = members[0]
        out.append({"method": head["method"], "group": {c: head["params"][c] for c in other},
                    **fit_report(knobs, targets, numeric, list(objectives))})
    return out
