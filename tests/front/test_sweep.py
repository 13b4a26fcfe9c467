"""Sweeps on real AlpacaEval rows: Pareto marks against every evaluated point, agreement with
select + measure, shared facility-location state, surrogate-driven sweeps and fronts from tables."""
from pathlib import Path

import moocore
import numpy as np
import pyarrow as pa
import pytest

from quadiv import io
from quadiv.errors import UsageError
from quadiv.front import build_front, front, front_from_table
from quadiv.measure import measure
from quadiv.select import get_selector, select


@pytest.fixture(scope="module")
def pool(alpaca_path: Path):
    """300 real answers (texts, quality, generator) with small random unit embeddings."""
    table = io.read(str(alpaca_path), columns=["output", "quality", "generator"])
    keep = np.random.default_rng(0).choice(table.num_rows, 300, replace=False)
    part = io.take(table, np.sort(keep))
    X = np.random.default_rng(1).normal(size=(300, 16)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return (X, part.column("output").to_pylist(), io.float_column(part, "quality"),
            np.array(part.column("generator").to_pylist()))


def _dominated(a: np.ndarray, b: np.ndarray) -> bool:
    """a is dominated by b, both maximised."""
    return bool(np.all(b >= a) and np.any(b > a))


def test_pareto_marks_match_every_evaluated_point(pool):
    X, texts, quality, _ = pool
    result = front(X, 30, quality=quality, texts=texts, tradeoffs="0:1:6")
    points = result["points"]
    assert len(points) == 4 * 6
    assert {p["method"] for p in points} == {"facility-location", "dpp", "mmr", "cluster"}
    V = np.array([[p["metrics"]["quality_mean"], p["metrics"]["vendi"]] for p in points])
    for i, p in enumerate(points):
        dominated = any(_dominated(V[i], V[j]) for j in range(len(V)) if j != i)
        assert p["pareto"] == (not dominated)
    assert result["pareto"] == [i for i, p in enumerate(points) if p["pareto"]]
    assert points[result["knee"]]["pareto"]
    ref = result["hypervolume"]["reference"]
    assert result["hypervolume"]["value"] == pytest.approx(moocore.hypervolume(V, ref=ref, maximise=True), rel=1e-9)
    assert [s["method"] for s in result["surrogate"]] == result["methods"]  # 6 settings > 3 coefficients


def test_points_hold_the_metrics_of_select_then_measure(pool):
    X, texts, quality, groups = pool
    result = front(X, 25, methods=["mmr"], tradeoffs=[0.3], quality=quality, texts=texts, groups=groups,
                   objectives="quality_mean:max,worst_group_quality:max")
    chosen = select(X, 25, method="mmr", quality=quality, tradeoff=0.3).indices
    expected = measure(X[chosen], [texts[i] for i in chosen], quality[chosen])["metrics"]
    got = result["points"][0]["metrics"]
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, rel=1e-9, nan_ok=True), name
    means = [quality[chosen][groups[chosen] == g].mean() for g in set(groups[chosen])]
    assert got["worst_group_quality"] == pytest.approx(min(means))
    assert set(got) == set(expected) | {"worst_group_quality", "group_p20_quality", "group_gini_quality",
                                        "harmony_quality"}


@pytest.mark.parametrize("mode", ["dense", "sparse"])
def test_facility_location_cache_gives_the_same_selections(pool, mode):
    X, _, quality, _ = pool
    cache: dict = {}
    selector = get_selector("facility-location", mode=mode, n_neighbors=8)
    for t in (0.0, 0.4, 1.0):
        a = selector.select(X, 20, quality, t, cache=cache)
        b = selector.select(X, 20, quality, t)
        np.testing.assert_array_equal(a.indices, b.indices)
        assert a.objective == pytest.approx(b.objective)
    # built once: the embedding matrix and the kernel (dense: weighted similarities and the density
    # weights; sparse: the kNN graph, whose densities are read off it per call)
    assert len(cache) == (3 if mode == "dense" else 2)
    with pytest.raises(UsageError, match="another embedding matrix"):
        selector.select(X[::-1].copy(), 20, quality, 0.5, cache=cache)


def test_budget_sweep_with_surrogate_evaluations(pool):
    X, _, quality, _ = pool
    result = front(X, "20,40", methods=["mmr", "dpp"], tradeoffs="0:1:6", quality=quality, budget_evals=8,
                   metrics="vendi,quality_mean")
    assert len(result["points"]) == 2 * 8 and result["budget"] == [20, 40]
    assert {p["params"]["budget"] for p in result["points"]} == {20, 40}
    assert [s["method"] for s in result["surrogate"]] == ["mmr", "dpp"]
    for report in result["surrogate"]:
        assert report["knobs"] == ["tradeoff", "budget"] and report["evaluations"] == 8
        assert set(report["holdout"]) == {"quality_mean", "vendi"}
        assert all(p["params"]["budget"] in (20, 40) for p in report["predicted_front"])


def test_front_from_a_table_of_results(tmp_path: Path):
    rows = [{"generator": g, "temperature": t, "quality_mean": 1 - 0.3 * t * t + 0.1 * (g == "b"),
             "vendi": 2 + 3 * t, "self_bleu": 0.5 - 0.2 * t}
            for g in ("a", "b") for t in np.linspace(0.2, 1.4, 7)]
    path = tmp_path / "sweep.csv"
    io.write(pa.Table.from_pylist(rows), str(path))
    result = front_from_table(io.read(str(path)), "quality_mean:max,vendi:max,self_bleu:min", path=str(path))
    assert len(result["points"]) == 14
    assert all(p["method"] == "table" and set(p["params"]) == {"generator", "temperature"} for p in result["points"])
    # generator b is better everywhere at equal temperature, so no point of a is on the front
    assert {result["points"][i]["params"]["generator"] for i in result["pareto"]} == {"b"}
    fits = {s["group"]["generator"]: s for s in result["surrogate"]}
    assert set(fits) == {"a", "b"}
    for s in fits.values():
        assert s["knobs"] == ["temperature"]
        assert s["fit"]["quality_mean"]["r2"] == pytest.approx(1.0)  # an exact quadratic in temperature
        assert s["fit"]["vendi"]["loo_max_abs_error"] < 1e-9


def test_build_front_and_input_errors(pool):
    X, texts, quality, _ = pool
    with pytest.raises(UsageError, match="quality"):
        front(X, 10, methods=["mmr"], tradeoffs=[0.5], texts=texts)
    with pytest.raises(UsageError, match="tradeoffs must lie"):
        front(X, 10, tradeoffs="0:2:3", quality=quality)
    with pytest.raises(UsageError, match="unknown selection method"):
        front(X, 10, methods=["nope"], quality=quality)
    with pytest.raises(UsageError, match="no value for objective"):
        build_front([{"method": "m", "params": {}, "metrics": {"vendi": 1.0}}], "vendi,quality_mean")
