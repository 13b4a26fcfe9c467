"""Vendi family: reference checks against vendi-score, closed forms, properties and errors."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import vendi_score.vendi as vendi_ref
from scipy.spatial.distance import pdist

from quadiv.errors import InputError, UsageError
from quadiv.measure import (
    mean_pairwise_distance,
    qvendi,
    vendi,
    vendi_from_spectrum,
    vendi_kernel,
    vendi_samples,
    vendi_spectrum,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ORDERS = [0.5, 1.0, 2.0, math.inf]


def unit_rows(X: np.ndarray) -> np.ndarray:
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def gaussian(n: int, d: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d))


def clustered(n: int, d: int, k: int, noise: float, seed: int = 0) -> np.ndarray:
    """n unit rows around k random centres: a spectrum with a few large eigenvalues."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, d))
    return unit_rows(centres[rng.integers(0, k, n)] + noise * rng.standard_normal((n, d)))


# --- reference: vendi_score.vendi.score_K on the same kernel ---------------------------------

@pytest.mark.parametrize("shape", [(40, 100), (64, 64), (150, 16), (240, 40)])
@pytest.mark.parametrize("q", [1.0, 2.0, 0.5, 3.0])
@pytest.mark.parametrize("unit", [True, False])
def test_matches_vendi_score_package(shape, q, unit):
    X = gaussian(*shape, seed=shape[0])
    if unit:
        X = unit_rows(X)
    ref = vendi_ref.score_K(X @ X.T, q=q)
    assert vendi(X, q) == pytest.approx(ref, rel=2e-6)


@pytest.mark.parametrize("shape", [(50, 30), (200, 20)])
def test_matches_vendi_score_package_clustered_and_inf(shape):
    X = clustered(*shape, k=4, noise=0.3, seed=1)
    K = X @ X.T
    for q in [0.5, 1.0, 2.0]:
        assert vendi(X, q) == pytest.approx(vendi_ref.score_K(K, q=q), rel=2e-6)
    assert vendi(X, "inf") == pytest.approx(vendi_ref.score_K(K, q="inf"), rel=2e-6)


def test_kernel_and_samples_match_vendi_score_package():
    X = gaussian(60, 5, seed=2)
    rbf = lambda a, b: float(np.exp(-np.sum((a - b) ** 2) / 4.0))
    K = np.exp(-((X[:, None, :] - X[None, :, :]) ** 2).sum(-1) / 4.0)
    for q in [0.5, 1.0, 2.0]:
        ref = vendi_ref.score_K(K, q=q)
        assert vendi_kernel(K, q) == pytest.approx(ref, rel=2e-6)
        assert vendi_samples(list(X), rbf, q) == pytest.approx(ref, rel=2e-6)


# --- closed forms ------------------------------------------------------------------------------

@pytest.mark.parametrize("q", ORDERS)
@pytest.mark.parametrize("n, d", [(200, 16), (5, 16)])
def test_identical_items_give_one(q, n, d):
    X = np.tile(unit_rows(gaussian(1, d)), (n, 1))
    assert vendi(X, q) == pytest.approx(1.0, rel=1e-9)
    assert vendi(X.astype(np.float32), q) == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("q", ORDERS)
def test_orthogonal_items_give_n(q):
    Q, _ = np.linalg.qr(gaussian(32, 12, seed=3))  # 12 orthonormal columns in R^32
    assert vendi(Q.T, q) == pytest.approx(12.0, rel=1e-9)
    assert vendi(np.eye(7, 20), q) == pytest.approx(7.0, rel=1e-12)


@pytest.mark.parametrize("q", ORDERS + [0.1, 7.0])
def test_block_structure_gives_number_of_blocks(q):
    k, m, d = 5, 40, 8  # n = 200 > d: dual path
    Q, _ = np.linalg.qr(gaussian(d, k, seed=4))
    X = np.repeat(Q.T, m, axis=0)
    assert vendi(X, q) == pytest.approx(float(k), rel=1e-9)
    assert vendi(X.astype(np.float32), q) == pytest.approx(float(k), rel=1e-5)


def test_single_item_gives_one():
    for q in ORDERS:
        assert vendi(unit_rows(gaussian(1, 9)), q) == pytest.approx(1.0, rel=1e-12)
    assert vendi([[3.0, 4.0]], normalize=True) == pytest.approx(1.0, rel=1e-12)


def test_from_spectrum_closed_forms():
    lam = np.array([0.7, 0.2, 0.1, 0.0, -1e-18])
    p = lam[:3]
    assert vendi_from_spectrum(lam, 1.0) == pytest.approx(math.exp(-np.sum(p * np.log(p))))
    assert vendi_from_spectrum(lam, 2.0) == pytest.approx(1.0 / np.sum(p**2))
    assert vendi_from_spectrum(lam, 0.5) == pytest.approx(np.sum(np.sqrt(p)) ** 2)
    assert vendi_from_spectrum(lam, math.inf) == pytest.approx(1 / 0.7)
    for q in ORDERS:
        assert vendi_from_spectrum(np.full(6, 1 / 6), q) == pytest.approx(6.0)


def test_orders_are_non_increasing_in_q():
    X = clustered(300, 24, k=6, noise=0.5, seed=5)
    scores = [vendi(X, q) for q in [0.25, 0.5, 1.0, 2.0, 5.0, math.inf]]
    assert all(a >= b * (1 - 1e-12) for a, b in itertools.pairwise(scores))
    assert scores[0] > scores[-1] * 1.1


@pytest.mark.parametrize("q", [math.inf, float("inf"), "inf", "Infinity"])
def test_q_infinity_spellings(q):
    X = clustered(120, 10, k=3, noise=0.4, seed=6)
    lam = np.linalg.eigvalsh(X.T @ X / len(X))
    assert vendi(X, q) == pytest.approx(1.0 / lam.max(), rel=1e-10)


# --- the spectrum itself --------------------------------------------------------------------

@pytest.mark.parametrize("n, d", [(150, 20), (20, 150)])
def test_spectrum_equals_dense_eigenvalues(n, d):
    X = gaussian(n, d, seed=7)
    dense = np.sort(np.linalg.eigvalsh(X @ X.T / n))[::-1][: min(n, d)]
    lam = vendi_spectrum(X)
    assert np.all(lam >= 0) and np.all(np.diff(lam) <= 0)
    np.testing.assert_allclose(lam[: min(n, d)], dense, rtol=1e-9, atol=1e-12)
    assert lam.sum() == pytest.approx(np.mean(np.sum(X**2, axis=1)), rel=1e-10)


def test_rank_deficient_noise_is_zeroed():
    X = np.repeat(unit_rows(gaussian(3, 50, seed=8)), 100, axis=0).astype(np.float32)
    lam = vendi_spectrum(X, batch_size=64)
    assert np.count_nonzero(lam) == 3


@pytest.mark.parametrize("n, d", [(1000, 12), (30, 200)])
def test_batch_size_does_not_change_result(n, d):
    X = gaussian(n, d, seed=9)
    for q in [0.5, 1.0, 2.0]:
        assert vendi(X, q, batch_size=7) == pytest.approx(vendi(X, q), rel=1e-10)
        assert vendi(X, q, normalize=True, batch_size=7) == pytest.approx(
            vendi(unit_rows(X), q), rel=1e-10)


def test_memmap_equals_in_memory(tmp_path):
    X = clustered(3000, 24, k=8, noise=0.6, seed=10).astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    seen: list[int] = []
    got = vendi(mm, 1.0, batch_size=256, progress=seen.append)
    assert got == pytest.approx(vendi(X, 1.0), rel=1e-6)
    assert sum(seen) == len(X) and len(seen) == math.ceil(len(X) / 256)
    assert vendi(mm, 2.0, normalize=True, batch_size=500) == pytest.approx(vendi(X, 2.0), rel=1e-5)
    assert mean_pairwise_distance(mm, batch_size=700) == pytest.approx(
        mean_pairwise_distance(X), rel=1e-6)


def test_float32_agrees_with_float64():
    X = clustered(3000, 64, k=20, noise=0.8, seed=11)
    for q in [0.5, 1.0, 2.0, math.inf]:
        assert vendi(X.astype(np.float32), q) == pytest.approx(vendi(X, q), rel=1e-4)


def test_normalize_does_not_modify_input():
    X = gaussian(200, 10, seed=12)
    before = X.copy()
    assert vendi(X, normalize=True) == pytest.approx(vendi(unit_rows(X)), rel=1e-12)
    np.testing.assert_array_equal(X, before)


def test_integer_and_list_input():
    assert vendi([[1, 0], [0, 1], [1, 0]], 1.0) == pytest.approx(
        vendi(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])))


# --- quality-weighted Vendi -----------------------------------------------------------------

def test_qvendi_closed_forms():
    X = clustered(200, 16, k=5, noise=0.4, seed=13)
    s = np.random.default_rng(13).uniform(0, 1, 200)
    for q in [0.5, 1.0, 2.0]:
        assert qvendi(X, s, q) == pytest.approx(s.mean() * vendi_ref.score_K(X @ X.T, q=q),
                                                rel=2e-6)
    Xi = np.tile(unit_rows(gaussian(1, 8)), (50, 1))
    assert qvendi(Xi, np.full(50, 0.3), 2.0) == pytest.approx(0.3)
    assert qvendi(np.eye(6, 10), [1, 2, 3, 4, 5, 6]) == pytest.approx(3.5 * 6)


def test_qvendi_validates_quality():
    X = gaussian(10, 4)
    with pytest.raises(InputError, match="one score per row"):
        qvendi(X, np.ones(9))
    with pytest.raises(InputError, match="NaN"):
        qvendi(X, np.r_[np.ones(9), np.nan])


# --- mean pairwise cosine distance ----------------------------------------------------------

@pytest.mark.parametrize("n, d", [(2, 3), (150, 20), (40, 300)])
def test_mean_pairwise_distance_matches_brute_force(n, d):
    X = gaussian(n, d, seed=n) * np.random.default_rng(n).uniform(0.5, 3, (n, 1)) + 0.3
    brute = pdist(X, metric="cosine").mean()
    assert mean_pairwise_distance(X) == pytest.approx(brute, rel=1e-10, abs=1e-12)
    assert mean_pairwise_distance(X.astype(np.float32), batch_size=16) == pytest.approx(
        brute, rel=1e-4, abs=1e-6)


def test_mean_pairwise_distance_closed_forms():
    assert mean_pairwise_distance(np.tile([[1.0, 2.0, 2.0]], (30, 1))) == pytest.approx(0, abs=1e-12)
    assert mean_pairwise_distance(np.eye(5) * 3) == pytest.approx(1.0)
    assert mean_pairwise_distance([[1.0, 0.0], [-2.0, 0.0]]) == pytest.approx(2.0)


# --- errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize("q", [0, -1, 0.0, float("nan"), "abc", None, -math.inf])
def test_bad_q_raises_usage_error(q):
    X = gaussian(10, 4)
    with pytest.raises(UsageError):
        vendi(X, q)
    with pytest.raises(UsageError):
        vendi_from_spectrum([0.5, 0.5], q)


def test_bad_input_raises():
    with pytest.raises(UsageError, match="n=0"):
        vendi(np.zeros((0, 5)))
    with pytest.raises(UsageError, match="n=0"):
        vendi_kernel(np.zeros((0, 0)))
    with pytest.raises(UsageError, match="n=0"):
        vendi_samples([], lambda a, b: 1.0)
    with pytest.raises(InputError, match="2-D"):
        vendi(np.ones(5))
    with pytest.raises(InputError, match="numeric"):
        vendi(np.array([["a", "b"]]))
    with pytest.raises(InputError, match="NaN"):
        vendi(np.array([[1.0, np.nan], [0.0, 1.0], [1.0, 1.0]]))
    with pytest.raises(InputError, match="zero or non-finite norm"):
        vendi(np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]]), normalize=True)
    with pytest.raises(InputError, match="row 2 has zero"):
        vendi(np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]]), normalize=True)
    with pytest.raises(InputError, match="zero or non-finite norm"):
        vendi(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]), normalize=True)
    with pytest.raises(InputError, match="no positive eigenvalue"):
        vendi(np.zeros((4, 3)))
    with pytest.raises(UsageError, match="batch_size"):
        vendi(gaussian(5, 2), batch_size=0)
    with pytest.raises(UsageError, match="at least 2 rows"):
        mean_pairwise_distance(gaussian(1, 3))


def test_kernel_validation():
    with pytest.raises(InputError, match="square"):
        vendi_kernel(np.ones((3, 4)))
    with pytest.raises(InputError, match="symmetric"):
        vendi_kernel(np.array([[1.0, 0.5], [0.1, 1.0]]))
    with pytest.raises(InputError, match="NaN"):
        vendi_kernel(np.array([[1.0, np.nan], [np.nan, 1.0]]))
    assert vendi_kernel(np.ones((4, 4)), 2.0) == pytest.approx(1.0)
    assert vendi_kernel(np.eye(4), 0.5) == pytest.approx(4.0)
