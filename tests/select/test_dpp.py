"""Greedy DPP MAP (Chen et al. 2018) against brute-force slogdet greedy and a literal Algorithm 1."""
import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.select import DPPSelector, select, unit_quality


def _unit_rows(n: int, d: int, seed: int) -> np.ndarray:
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _brute_force_greedy(X: np.ndarray, q: np.ndarray, k: int, theta: float) -> list[int]:
    """Add argmax_i log det L_{S+i}, with every determinant from numpy's slogdet."""
    r = np.exp(theta / (2 * (1 - theta)) * q)
    L = r[:, None] * (X @ X.T) * r[None, :]
    picks: list[int] = []
    for _ in range(k):
        best, best_val = -1, -np.inf
        for i in range(len(q)):
            if i in picks:
                continue
            sign, val = np.linalg.slogdet(L[np.ix_(picks + [i], picks + [i])])
            if sign > 0 and val > best_val:
                best, best_val = i, val
        picks.append(best)
    return picks


def _literal_algorithm_1(L: np.ndarray, k: int) -> tuple[list[int], list[float]]:
    """Chen et al. 2018, Algorithm 1, as printed: c_i vectors, d_i^2, e_i = (L_ji - <c_j, c_i>) / d_j."""
    n = L.shape[0]
    c = np.zeros((n, 0))
    d2 = np.diag(L).copy()
    j = int(np.argmax(np.log(d2)))
    picks, logd2 = [j], [np.log(d2[j])]
    while len(picks) < k:
        e = (L[j] - c @ c[j]) / np.sqrt(d2[j])
        c = np.hstack([c, e[:, None]])
        d2 = d2 - e**2
        d2[picks] = -np.inf
        j = int(np.argmax(d2))
        picks.append(j)
        logd2.append(np.log(d2[j]))
    return picks, logd2


@pytest.mark.parametrize("theta", [0.0, 0.3, 0.7])
def test_picks_match_brute_force_slogdet_greedy(theta):
    X = _unit_rows(40, 16, seed=1)
    q = np.random.default_rng(2).random(40)
    sel = select(X, 10, method="dpp", quality=q, tradeoff=theta)
    assert sel.indices.tolist() == _brute_force_greedy(X, unit_quality(q, 40), 10, theta)


def test_gains_and_order_match_literal_algorithm_1():
    X = _unit_rows(200, 48, seed=3)
    q = np.random.default_rng(4).random(200)
    theta = 0.4
    u = unit_quality(q, 200)
    r = np.exp(theta / (2 * (1 - theta)) * u)
    picks, logd2 = _literal_algorithm_1(r[:, None] * (X @ X.T) * r[None, :], 30)
    sel = DPPSelector().select(X, 30, quality=q, tradeoff=theta)
    assert sel.indices.tolist() == picks
    # gains are the paper's log d_j^2 of L, rescaled by (1 - theta)
    np.testing.assert_allclose(sel.gains, (1 - theta) * np.asarray(logd2), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("theta", [0.0, 0.5])
def test_objective_is_exact_log_det_of_result(theta):
    X = _unit_rows(60, 24, seed=5)
    q = np.random.default_rng(6).random(60)
    sel = select(X, 12, method="dpp", quality=q, tradeoff=theta)
    S, u = sel.indices, unit_quality(q, 60)
    _, logdet_K = np.linalg.slogdet(X[S] @ X[S].T)
    assert sel.objective == pytest.approx(theta * u[S].sum() + (1 - theta) * logdet_K, rel=1e-9)
    if theta > 0:
        r = np.exp(theta / (2 * (1 - theta)) * u[S])
        _, logdet_L = np.linalg.slogdet(r[:, None] * (X[S] @ X[S].T) * r[None, :])
        assert sel.objective == pytest.approx((1 - theta) * logdet_L, rel=1e-9)
    assert sel.gains.sum() == pytest.approx(sel.objective, rel=1e-9)


def test_float32_input_gives_the_same_picks():
    X = _unit_rows(300, 32, seed=7)
    q = np.random.default_rng(8).random(300)
    a = select(X, 25, method="dpp", quality=q, tradeoff=0.5)
    b = select(X.astype(np.float32), 25, method="dpp", quality=q, tradeoff=0.5)
    assert a.indices.tolist() == b.indices.tolist()


def test_rank_exhausted_falls_back_to_quality_order():
    X = _unit_rows(50, 5, seed=9)
    q = np.random.default_rng(10).random(50)
    sel = select(X, 12, method="dpp", quality=q, tradeoff=0.2)
    assert sel.params["dpp_size"] == 5
    assert np.isfinite(sel.gains[:5]).all() and np.isnan(sel.gains[5:]).all()
    rest = np.setdiff1d(np.arange(50), sel.indices[:5])
    assert sel.indices[5:].tolist() == rest[np.argsort(-q[rest], kind="stable")][:7].tolist()
    assert len(set(sel.indices.tolist())) == 12


def test_duplicates_are_never_picked_twice_by_the_dpp():
    X = _unit_rows(20, 10, seed=11)
    X = np.vstack([X, X[:5]])  # rows 20..24 duplicate rows 0..4
    sel = select(X, 10, method="dpp", tradeoff=0.0)
    picked = set(sel.indices.tolist())
    assert all(not (i in picked and i + 20 in picked) for i in range(5))


def test_theta_one_is_top_quality_order():
    X = _unit_rows(30, 8, seed=12)
    q = np.random.default_rng(13).random(30)
    sel = select(X, 10, method="dpp", quality=q, tradeoff=1.0)
    assert sel.indices.tolist() == np.argsort(-q)[:10].tolist()
    assert sel.objective == pytest.approx(unit_quality(q, 30)[sel.indices].sum())


def test_bad_eps_is_a_usage_error():
    with pytest.raises(UsageError):
        DPPSelector(eps=0.0)
