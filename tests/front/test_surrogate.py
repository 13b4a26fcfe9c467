"""MAP's quadratic surrogate: exact recovery, leave-one-out residuals, the adaptive loop."""
import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.front import QuadraticSurrogate, adaptive_evaluations, pareto_mask
from quadiv.front._surrogate import dense_grid, n_basis, r2_score, spread


def _quadratic(Z: np.ndarray) -> np.ndarray:
    """Two exact quadratics with cross terms in two knobs."""
    x, y = Z[:, 0], Z[:, 1]
    return np.column_stack([1.5 - 2 * x + 0.5 * y + 3 * x * x - x * y + 0.25 * y * y,
                            -0.3 + x + 4 * y * y + 2 * x * y])


def test_recovers_an_exact_quadratic():
    rng = np.random.default_rng(0)
    Z = rng.uniform(-1, 3, size=(12, 2))
    model = QuadraticSurrogate().fit(Z, _quadratic(Z))
    new = rng.uniform(-5, 5, size=(50, 2))  # far outside the fitted box too
    np.testing.assert_allclose(model.predict(new), _quadratic(new), rtol=1e-9, atol=1e-9)
    assert r2_score(_quadratic(Z)[:, 0], model.fitted[:, 0]) == pytest.approx(1.0)


def test_one_knob_needs_three_points():
    t = np.array([0.0, 0.5, 1.0])
    model = QuadraticSurrogate().fit(t, 2 - t + 4 * t**2)
    assert model.predict(np.array([0.25]))[0, 0] == pytest.approx(2 - 0.25 + 0.25)
    with pytest.raises(UsageError, match="at least 3"):
        QuadraticSurrogate().fit(t[:2], t[:2])
    assert n_basis(1) == 3 and n_basis(2) == 6 and n_basis(3) == 10


def test_loo_residuals_match_explicit_refits():
    rng = np.random.default_rng(1)
    Z = rng.random((15, 2))
    Y = _quadratic(Z) + rng.normal(scale=0.1, size=(15, 2))
    loo = QuadraticSurrogate().fit(Z, Y).loo_residuals()
    for i in range(len(Z)):
        rest = np.delete(np.arange(len(Z)), i)
        refit = QuadraticSurrogate().fit(Z[rest], Y[rest])
        np.testing.assert_allclose(loo[i], Y[i] - refit.predict(Z[i:i + 1])[0], rtol=1e-6, atol=1e-9)


def test_spread_picks_far_apart_points():
    grid = np.linspace(0, 1, 11)[:, None]
    np.testing.assert_array_equal(np.sort(spread(grid, 3)), [0, 5, 10])
    # already-evaluated points are avoided; nothing is picked twice
    picks = spread(grid, 20, chosen=grid[[0, 10]])
    assert 0 not in picks and 10 not in picks and len(set(picks.tolist())) == len(picks) == 9


def test_adaptive_loop_on_exact_quadratic_objectives():
    """With objectives that are exact quadratics of the knob, the first fit already predicts the front."""
    calls = []

    def evaluate(knobs):
        calls.append(float(knobs[0]))
        t = knobs[0]
        return {"quality": 0.2 + 0.8 * t - 0.3 * t * t, "diversity": 5 - 4 * t * t}

    objectives = {"quality": "max", "diversity": "max"}
    grid = np.linspace(0, 1, 11)[:, None]
    dense = dense_grid([np.linspace(0, 1, 101)])
    done, report = adaptive_evaluations(evaluate, grid, dense, objectives, 7)
    assert report["initial"] == 4 and report["evaluations"] == len(done) == len(calls) == 7
    assert len(set(calls)) == 7
    for name in objectives:
        assert report["holdout"][name]["max_abs_error"] < 1e-9
        assert report["fit"][name]["r2"] == pytest.approx(1.0)
    # the predicted front is the true front on the dense grid
    truth = np.array([[evaluate(k)[n] for n in objectives] for k in dense])
    expected = dense[pareto_mask(truth, ["max", "max"])][:, 0]
    np.testing.assert_allclose(sorted(k[0] for k, _ in report["predicted_front"]), expected)
    with pytest.raises(UsageError, match="too few"):
        adaptive_evaluations(evaluate, grid, dense, objectives, 2)
