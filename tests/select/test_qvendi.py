"""Greedy quality-weighted Vendi selection against an exhaustive greedy built on the vendi-score package."""
import numpy as np
import pytest
import vendi_score.vendi as vendi_score

from quadiv.errors import UsageError
from quadiv.select import QVendiSelector, select

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # vendi-score uses scipy.sparse.csr


def _clustered(n: int, d: int, clusters: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit rows around a few centres, and a quality already its own percentile rank (0, 1/(n-1), ..., 1),
    which unit_quality leaves alone."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, d))
    X = centres[rng.integers(0, clusters, n)] + 0.3 * rng.standard_normal((n, d))
    q = rng.permutation(n) / (n - 1)
    return X / np.linalg.norm(X, axis=1, keepdims=True), q


def _reference_greedy(X: np.ndarray, q: np.ndarray, k: int, t: float) -> tuple[list[int], float]:
    """Each step adds the item maximising mean(q)^t * VS^(1-t), VS from vendi_score.score_K."""
    picks = [int(np.argmax(q))]
    while len(picks) < k:
        best, best_val = -1, -np.inf
        for i in range(len(q)):
            if i in picks:
                continue
            S = picks + [i]
            val = np.mean(q[S]) ** t * vendi_score.score_K(X[S] @ X[S].T) ** (1 - t)
            if val > best_val:
                best, best_val = i, val
        picks.append(best)
    return picks, float(best_val)


@pytest.mark.parametrize("t", [0.0, 0.5, 0.8])
def test_exhaustive_mode_matches_reference_greedy(t):
    X, q = _clustered(50, 12, 4, seed=0)
    sel = QVendiSelector(shortlist=None).select(X, 8, quality=q, tradeoff=t)
    picks, value = _reference_greedy(X, q, 8, t)
    assert sel.indices.tolist() == picks
    assert sel.params["criterion"] == pytest.approx(value, rel=1e-9)
    assert sel.gains.sum() == pytest.approx(value, rel=1e-9)


def test_half_is_the_papers_qvs_greedy():
    """t = 0.5 maximises sqrt(qVS): the same picks as the q_vendi package's sequential greedy."""
    X, q = _clustered(40, 10, 3, seed=1)
    sel = QVendiSelector(shortlist=None).select(X, 6, quality=q, tradeoff=0.5)
    picks = [int(np.argmax(q))]
    while len(picks) < 6:
        rest = [i for i in range(40) if i not in picks]
        qvs = [np.mean(q[picks + [i]]) * vendi_score.score_dual(X[picks + [i]]) for i in rest]
        picks.append(rest[int(np.argmax(qvs))])
    assert sel.indices.tolist() == picks


def test_scatter_path_beyond_the_rank_matches_reference():
    X, q = _clustered(30, 4, 3, seed=2)  # k = 9 > d = 4: the d x d scatter path
    sel = QVendiSelector(shortlist=None).select(X, 9, quality=q, tradeoff=0.3)
    assert sel.indices.tolist() == _reference_greedy(X, q, 9, 0.3)[0]


@pytest.mark.parametrize("t", [0.0, 0.5])
def test_shortlist_is_close_to_exhaustive(t):
    X, q = _clustered(400, 32, 10, seed=3)
    exact = QVendiSelector(shortlist=None).select(X, 25, quality=q, tradeoff=t)
    fast = QVendiSelector().select(X, 25, quality=q, tradeoff=t)
    assert fast.params["criterion"] >= 0.99 * exact.params["criterion"]
    assert fast.indices[:10].tolist() == exact.indices[:10].tolist()


def test_objective_is_qvs_of_the_result():
    X, q = _clustered(200, 16, 5, seed=4)
    sel = select(X, 15, method="qvendi", quality=q * 7 + 3, tradeoff=0.6)
    S = sel.indices
    assert sel.objective == pytest.approx(np.mean(q[S]) * vendi_score.score_dual(X[S]), rel=1e-6)
    assert len(set(S.tolist())) == 15


def test_t_one_is_top_quality_order():
    X, q = _clustered(100, 8, 3, seed=5)
    sel = select(X, 10, method="qvendi", quality=q, tradeoff=1.0)
    assert sel.indices.tolist() == np.argsort(-q)[:10].tolist()


def test_diversity_only_spreads_over_clusters():
    centres = np.eye(4)
    X = np.repeat(centres, 10, axis=0) + 0.01 * np.random.default_rng(6).standard_normal((40, 4))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    sel = select(X, 4, method="qvendi", tradeoff=0.0)
    assert sorted(sel.indices // 10) == [0, 1, 2, 3]
    assert sel.objective == pytest.approx(4.0, rel=1e-3)


def test_bad_shortlist_is_a_usage_error():
    with pytest.raises(UsageError):
        QVendiSelector(shortlist=1)
