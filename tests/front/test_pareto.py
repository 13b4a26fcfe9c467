"""Pareto filtering, hypervolume, R2 and knee against brute force, moocore and closed forms."""
import itertools

import moocore
import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.front import (
    default_reference,
    hypervolume,
    knee_point,
    pareto_mask,
    parse_objectives,
    r2_indicator,
    weight_lattice,
)
from quadiv.front._pareto import tchebycheff_r2


def _brute_force_mask(V: np.ndarray, senses: list[str]) -> np.ndarray:
    """Pairwise dominance with explicit loops, in the original senses."""
    def better_or_equal(a, b, s):
        return a >= b if s == "max" else a <= b

    def strictly_better(a, b, s):
        return a > b if s == "max" else a < b

    keep = []
    for i in range(len(V)):
        dominated = any(
            all(better_or_equal(V[j, k], V[i, k], s) for k, s in enumerate(senses))
            and any(strictly_better(V[j, k], V[i, k], s) for k, s in enumerate(senses))
            for j in range(len(V)) if j != i)
        keep.append(not dominated)
    return np.array(keep)


@pytest.mark.parametrize("senses", [["max", "max"], ["max", "min"], ["min", "max", "min"], ["min"] * 4])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pareto_mask_matches_brute_force_with_ties(senses, seed):
    rng = np.random.default_rng(seed)
    V = rng.integers(0, 5, size=(120, len(senses))).astype(float)  # few values: many ties and duplicates
    V = np.vstack([V, V[:10]])  # exact duplicates
    np.testing.assert_array_equal(pareto_mask(V, senses), _brute_force_mask(V, senses))


def test_equal_points_are_all_kept_and_block_boundaries_do_not_matter():
    V = np.array([[1.0, 1.0], [1.0, 1.0], [0.0, 2.0], [0.0, 0.0]])
    np.testing.assert_array_equal(pareto_mask(V, ["max", "max"]), [True, True, True, False])
    rng = np.random.default_rng(3)
    big = rng.random((2500, 2))  # more rows than one dominance block
    expected = moocore.is_nondominated(big, maximise=[True, False], keep_weakly=True)
    np.testing.assert_array_equal(pareto_mask(big, ["max", "min"]), expected)


@pytest.mark.parametrize("m", [2, 3, 4])
def test_hypervolume_matches_moocore(m):
    rng = np.random.default_rng(m)
    V = rng.random((60, m))
    senses = ["max", "min", "max", "min"][:m]
    ref = default_reference(V, senses)
    expected = moocore.hypervolume(V, ref=ref, maximise=[s == "max" for s in senses])
    result = hypervolume(V, senses)
    assert result["reference"] == pytest.approx(ref.tolist())
    assert result["value"] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def _hv_2d_rectangles(V: np.ndarray, ref: np.ndarray) -> float:
    """Both maximised: sort the front by x descending; each point adds (x - ref_x) * (y - previous y)."""
    front = V[_brute_force_mask(V, ["max", "max"])]
    front = np.unique(front, axis=0)
    front = front[np.argsort(-front[:, 0])]
    area, y_prev = 0.0, ref[1]
    for x, y in front:
        if y > y_prev:
            area += (x - ref[0]) * (y - y_prev)
            y_prev = y
    return area


def test_hypervolume_2d_closed_form_and_default_reference():
    rng = np.random.default_rng(7)
    V = np.round(rng.random((40, 2)), 2)
    ref = V.min(axis=0) - 0.1 * np.ptp(V, axis=0)  # worst value minus 10% of the range
    assert default_reference(V, ["max", "max"]) == pytest.approx(ref)
    assert hypervolume(V, ["max", "max"])["value"] == pytest.approx(_hv_2d_rectangles(V, ref), rel=1e-12)
    # hand example: a staircase of three points
    stairs = np.array([[3.0, 1.0], [2.0, 2.0], [1.0, 3.0]])
    assert hypervolume(stairs, ["max", "max"], reference=[0.0, 0.0])["value"] == pytest.approx(3 + 2 + 1)
    # a point outside the reference box adds nothing
    assert hypervolume(stairs, ["max", "max"], reference=[2.5, 0.0])["value"] == pytest.approx(0.5)


def test_r2_converges_to_moocore_exact_r2():
    rng = np.random.default_rng(0)
    V = rng.random((30, 2))
    ideal = V.min(axis=0) - 0.05
    W = weight_lattice(2, 20000)
    ours = tchebycheff_r2(np.abs(V - ideal), W)
    assert ours == pytest.approx(moocore.r2_exact(V, ref=ideal), rel=1e-4)


def test_r2_of_the_ideal_point_is_zero_and_of_a_single_point_is_known():
    V = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # (1, 1) is the ideal for max-max
    assert r2_indicator(V, ["max", "max"])["value"] == pytest.approx(0.0)
    one = np.array([[0.0, 0.0]])
    # distance 1 in both scaled objectives: mean over w of max(w, 1 - w) = 3/4
    r2 = r2_indicator(one, ["max", "max"], ideal=[1.0, 1.0], reference=[0.0, 0.0], weights=weight_lattice(2, 2000))
    assert r2["value"] == pytest.approx(0.75, abs=1e-3)


@pytest.mark.parametrize("m, H", [(2, 4), (3, 5), (4, 3)])
def test_weight_lattice_is_the_simplex_lattice(m, H):
    W = weight_lattice(m, H)
    brute = {k for k in itertools.product(range(H + 1), repeat=m) if sum(k) == H}
    assert {tuple(np.round(w * H).astype(int)) for w in W} == brute and len(W) == len(brute)
    assert np.allclose(W.sum(axis=1), 1.0)
    assert len(weight_lattice(m)) <= 1000


def test_knee_on_a_hand_example():
    # extremes (0, 10) and (10, 0); (6, 6) is farthest beyond the line x + y = 10; (2, 8.5) is close to it
    V = np.array([[0.0, 10.0], [2.0, 8.5], [6.0, 6.0], [8.0, 3.0], [10.0, 0.0], [1.0, 1.0]])
    assert knee_point(V, ["max", "max"]) == 2
    # the same front written as losses to minimise has the same knee
    assert knee_point(-V, ["min", "min"]) == 2
    # mixed senses: minimise the first column of 10 - x
    W = V.copy()
    W[:, 0] = 10 - W[:, 0]
    assert knee_point(W, ["min", "max"]) == 2


def test_parse_objectives_and_errors():
    assert parse_objectives("quality_mean:max, self_bleu:min,vendi") == {
        "quality_mean": "max", "self_bleu": "min", "vendi": "max"}
    with pytest.raises(UsageError, match="sense"):
        parse_objectives("vendi:up,quality_mean")
    with pytest.raises(UsageError, match="at least two"):
        parse_objectives("vendi:max")
    with pytest.raises(UsageError, match="finite"):
        pareto_mask(np.array([[1.0, np.nan]]), ["max", "max"])
