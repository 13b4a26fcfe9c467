import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.geometry import knn_graph, unit_rows
from quadiv.select import SELECTORS, FacilityLocation, TopQuality, facility_location_objective, get_selector
from quadiv.select import _facility_location as fl


def mixture(n: int, d: int, n_clusters: int, spread: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((n_clusters, d))
    x = centers[rng.integers(0, n_clusters, n)] + spread * rng.standard_normal((n, d)) / np.sqrt(d)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


# a = (1, 0), b = (0, 1), c = (1, 1)/sqrt 2: s(a, b) = 0, s(a, c) = s(b, c) = 1/2, s(i, i) = 1
TRIANGLE = np.array([[1.0, 0.0], [0.0, 1.0], [np.sqrt(0.5), np.sqrt(0.5)]], dtype=np.float32)


@pytest.mark.parametrize("mode", ["dense", "sparse"])
def test_hand_worked_coverage_only(mode):
    # gains of a, b, c at the start: 1.5/3, 1.5/3, 2/3 -> c; then a and b tie at 0.5/3 -> a (lower index)
    sel = FacilityLocation(mode=mode, n_neighbors=3, weighting="uniform").select(TRIANGLE, 2, tradeoff=0.0)
    assert sel.indices.tolist() == [2, 0]
    np.testing.assert_allclose(sel.gains, [2 / 3, 0.5 / 3], atol=1e-6)
    np.testing.assert_allclose(sel.objective, 2.5 / 3, atol=1e-6)


@pytest.mark.parametrize("mode", ["dense", "sparse"])
def test_hand_worked_with_quality(mode):
    # t = 1/2, k = 2, q = (0, 1, 1/2): start gains a 0.25, b 0.25 + 0.25, c 1/3 + 0.125 -> b;
    # then a (1/2)(1 + 0 + 0)/3 = 1/6, c (1/2)(1/2 + 0 + 1/2)/3 + 1/8 = 7/24 -> c
    fl_uniform = FacilityLocation(mode=mode, n_neighbors=3, weighting="uniform")
    sel = fl_uniform.select(TRIANGLE, 2, quality=np.array([0.0, 1.0, 0.5]), tradeoff=0.5)
    assert sel.indices.tolist() == [1, 2]
    np.testing.assert_allclose(sel.gains, [0.5, 7 / 24], atol=1e-6)
    np.testing.assert_allclose(sel.objective, 0.5 * 2.5 / 3 + 0.5 * 1.5 / 2, atol=1e-6)


def test_matches_apricot_at_t0():
    apricot = pytest.importorskip("apricot")
    X = mixture(500, 32, n_clusters=20, spread=2.0, seed=1)
    ref = apricot.FacilityLocationSelection(40, metric="cosine", optimizer="naive").fit(X)
    sel = FacilityLocation(mode="dense", weighting="uniform").select(X, 40, tradeoff=0.0)
    assert sel.indices.tolist() == list(ref.ranking)
    np.testing.assert_allclose(sel.gains, ref.gains / 500, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(sel.objective, ref.gains.sum() / 500, rtol=1e-5)


@pytest.mark.parametrize("mode", ["dense", "sparse"])
def test_greedy_properties(mode):
    X = mixture(1200, 24, n_clusters=15, spread=1.5, seed=2)
    q = np.random.default_rng(3).gamma(2.0, size=1200)
    sel = FacilityLocation(mode=mode, n_neighbors=10).select(X, 60, quality=q, tradeoff=0.3, seed=5)
    again = FacilityLocation(mode=mode, n_neighbors=10).select(X, 60, quality=q, tradeoff=0.3, seed=5)
    assert len(sel.indices) == 60 and len(set(sel.indices.tolist())) == 60
    np.testing.assert_array_equal(sel.indices, again.indices)
    assert np.all(np.diff(sel.gains) <= 1e-12)
    np.testing.assert_allclose(np.sum(sel.gains), sel.objective, rtol=1e-6)
    if mode == "dense":
        prefix = [facility_location_objective(X, sel.indices[:m], q, 0.3, budget=60) for m in range(1, 61, 6)]
        assert np.all(np.diff(prefix) > 0)
        exact = facility_location_objective(X, sel.indices, q, 0.3)
        np.testing.assert_allclose(exact, sel.objective, rtol=1e-5)


def test_dense_recomputed_rows_equal_stored_matrix(monkeypatch):
    X = mixture(600, 16, n_clusters=8, spread=1.0, seed=4)
    stored = FacilityLocation(mode="dense").select(X, 30, tradeoff=0.0)
    monkeypatch.setattr(fl, "_STORED_SIM_BYTES", 0)
    recomputed = FacilityLocation(mode="dense").select(X, 30, tradeoff=0.0)
    np.testing.assert_array_equal(stored.indices, recomputed.indices)


def test_full_graph_sparse_equals_dense():
    X = np.abs(mixture(300, 12, n_clusters=5, spread=1.0, seed=6))  # all cosines >= 0: kNN(all) = everything
    X = unit_rows(X)
    dense = FacilityLocation(mode="dense", weighting="uniform").select(X, 25, tradeoff=0.0)
    sparse = FacilityLocation(mode="sparse", n_neighbors=300, knn="exact", weighting="uniform").select(
        X, 25, tradeoff=0.0)
    np.testing.assert_array_equal(dense.indices, sparse.indices)
    np.testing.assert_allclose(dense.objective, sparse.objective, rtol=1e-6)


@pytest.mark.parametrize("weighting", ["uniform", "inverse-density"])
@pytest.mark.parametrize("knn", ["exact", "ivf"])
def test_sparse_objective_close_to_dense(knn, weighting):
    X = mixture(3000, 48, n_clusters=60, spread=1.0, seed=7)
    dense = FacilityLocation(mode="dense", weighting=weighting).select(X, 100, tradeoff=0.0)
    sparse = FacilityLocation(mode="sparse", knn=knn, n_neighbors=32, weighting=weighting).select(
        X, 100, tradeoff=0.0)
    exact_of_sparse = facility_location_objective(X, sparse.indices, weighting=weighting)
    # the graph objective is a lower bound (weighted: when the graph's densities are the exact ones)
    if weighting == "uniform" or knn == "exact":
        assert sparse.objective <= exact_of_sparse + 1e-6
    assert exact_of_sparse >= 0.98 * dense.objective


@pytest.mark.parametrize("mode", ["dense", "sparse"])
def test_tradeoff_one_is_top_quality_order(mode):
    X = mixture(400, 8, n_clusters=4, spread=1.0, seed=8)
    q = np.round(np.random.default_rng(9).random(400), 1)  # many ties
    sel = FacilityLocation(mode=mode, n_neighbors=8).select(X, 50, quality=q, tradeoff=1.0)
    top = TopQuality().select(X, 50, quality=q)
    np.testing.assert_array_equal(sel.indices, top.indices)


def test_objective_on_sampled_rows():
    X = mixture(500, 8, n_clusters=5, spread=1.0, seed=10)
    S = np.arange(0, 500, 25)
    full = facility_location_objective(X, S, weighting="uniform")
    assert facility_location_objective(X, S, rows=np.arange(500), weighting="uniform") == pytest.approx(full)
    s = (X @ X[S].T) ** 2
    assert full == pytest.approx(np.mean(np.max(s, axis=1)), rel=1e-6)


def test_errors_and_registry():
    X = mixture(20, 4, n_clusters=2, spread=1.0, seed=11)
    with pytest.raises(UsageError):
        FacilityLocation().select(X, 21)
    with pytest.raises(UsageError):
        FacilityLocation(mode="fast")
    # a zero row (an empty text) is similar to nothing: allowed, and never worth picking early
    picks = FacilityLocation().select(np.vstack([X, np.zeros((1, 4))]), 3).indices
    assert 20 not in picks
    assert SELECTORS["facility-location"] is FacilityLocation
    assert get_selector("facility-location", mode="sparse").mode == "sparse"


def test_knn_exact_matches_brute_force():
    X = mixture(400, 16, n_clusters=6, spread=1.0, seed=12)
    idx, sim = knn_graph(X, 7, method="exact")
    full = X @ X.T
    ref = np.sort(full, axis=1)[:, ::-1][:, :7]
    np.testing.assert_allclose(sim, ref, atol=1e-5)
    np.testing.assert_allclose(np.take_along_axis(full, idx, axis=1), sim, atol=1e-5)
    assert np.all(idx[:, 0] == np.arange(400))


def test_knn_ivf_recall_and_padding():
    X = mixture(6000, 32, n_clusters=40, spread=1.0, seed=13)
    exact, _ = knn_graph(X, 16, method="exact")
    approx, sim = knn_graph(X, 16, method="ivf", n_probe=3, seed=0)
    recall = np.mean([np.intersect1d(exact[i], approx[i]).size / 16 for i in range(0, 6000, 7)])
    assert recall >= 0.9
    assert np.all(np.diff(sim, axis=1) <= 1e-6)
    assert np.all((approx >= 0) | ~np.isfinite(sim))


# weighted facility location: w_i = 1 / rho_i, rho_i = mean s(i, j) over the n_density nearest others

# 8 copies of a = e1, b with s(a, b) = 0.1 and c with s(a, c) = 0.05, s(b, c) = 0.005
CLUSTER = np.array([[1.0, 0.0, 0.0]] * 8 + [[np.sqrt(0.1), np.sqrt(0.9), 0.0],
                                            [np.sqrt(0.05), 0.0, np.sqrt(0.95)]], dtype=np.float32)


def naive_weighted_greedy(X, budget, q, t, n_density):
    """Brute force: weights from the full similarity matrix, every gain as f(S + j) - f(S)."""
    C = X.astype(np.float64) @ X.T.astype(np.float64)
    S = C * C
    n = len(X)
    rho = np.empty(n)
    for i in range(n):
        others = np.delete(np.arange(n), i)
        nearest = others[np.argsort(-C[i, others], kind="stable")[:n_density]]
        rho[i] = S[i, nearest].mean()
    w = np.where(rho > 0, 1.0 / np.where(rho > 0, rho, 1.0), 0.0)
    qn = np.argsort(np.argsort(q)) / (n - 1)  # distinct scores: unit quality = rank / (n - 1)

    def f(sel):
        return (1 - t) * (w @ S[:, sel].max(axis=1)) / w.sum() + t * qn[sel].sum() / budget

    picks, gains = [], []
    for _ in range(budget):
        base = f(picks) if picks else 0.0
        cand = [j for j in range(n) if j not in picks]
        g = np.array([f(picks + [j]) - base for j in cand])
        picks.append(cand[int(np.argmax(g))])
        gains.append(float(g.max()))
    return np.array(picks), np.array(gains), w


def test_inverse_density_weights_by_hand():
    # n_density = 2: rho(a) = 1 (its copies), rho(b) = 0.1, rho(c) = 0.05 (two copies of a each)
    np.testing.assert_allclose(fl._density_weights(CLUSTER, 2), [1.0] * 8 + [10.0, 20.0], rtol=1e-5)
    nbr, sim = knn_graph(CLUSTER, 10, method="exact")
    np.testing.assert_allclose(fl._inverse(fl._neighbour_density(nbr, sim, np.arange(10), 2)),
                               [1.0] * 8 + [10.0, 20.0], rtol=1e-5)


@pytest.mark.parametrize("mode", ["dense", "sparse"])
def test_hand_worked_uniform_vs_inverse_density(mode):
    # uniform (x10): a 8 + 0.1 + 0.05 = 8.15, b 0.8 + 1 + 0.005, c 0.4 + 0.005 + 1 -> a (index 0);
    #   then b 0.9, c 0.95 -> c; then b 0.9 -> [0, 9, 8]
    uniform = FacilityLocation(mode=mode, n_neighbors=10, weighting="uniform").select(CLUSTER, 3, tradeoff=0.0)
    assert uniform.indices.tolist() == [0, 9, 8]
    np.testing.assert_allclose(uniform.gains, [0.815, 0.095, 0.09], atol=1e-6)
    # inverse density, w = (1 x 8, 10, 20), W = 38 (x38): a 8 + 1 + 1 = 10, b 0.8 + 10 + 0.1 = 10.9,
    #   c 0.4 + 0.05 + 20 = 20.45 -> c; then a 7.6 + 0.95 = 8.55, b 0.4 + 9.95 = 10.35 -> b; then a 7.2
    weighted = FacilityLocation(mode=mode, n_neighbors=10, weighting="inverse-density", n_density=2)
    sel = weighted.select(CLUSTER, 3, tradeoff=0.0)
    assert sel.indices.tolist() == [9, 8, 0]
    np.testing.assert_allclose(sel.gains, np.array([20.45, 10.35, 7.2]) / 38, atol=1e-6)
    np.testing.assert_allclose(sel.objective, 1.0, atol=1e-6)
    assert sel.params["weighting"] == "inverse-density" and sel.params["n_density"] == 2


def test_inverse_density_is_the_default_objective():
    X = mixture(500, 32, n_clusters=20, spread=2.0, seed=1)
    q = np.random.default_rng(14).random(500)
    default = FacilityLocation(mode="dense").select(X, 40, quality=q, tradeoff=0.3)
    weighted = FacilityLocation(mode="dense", weighting="inverse-density").select(X, 40, quality=q, tradeoff=0.3)
    np.testing.assert_array_equal(default.indices, weighted.indices)
    np.testing.assert_array_equal(default.gains, weighted.gains)
    assert default.objective == weighted.objective
    assert facility_location_objective(X, default.indices, q, 0.3, weighting="inverse-density") == pytest.approx(
        facility_location_objective(X, default.indices, q, 0.3))
    assert default.params["weighting"] == "inverse-density"


@pytest.mark.parametrize("t", [0.0, 0.3])
def test_dense_inverse_density_equals_naive_greedy(t):
    X = mixture(60, 6, n_clusters=4, spread=1.5, seed=15)
    q = np.random.default_rng(16).random(60)
    picks, gains, w = naive_weighted_greedy(X, 12, q, t, n_density=10)
    np.testing.assert_allclose(fl._density_weights(X, 10), w, rtol=1e-4)
    sel = FacilityLocation(mode="dense", weighting="inverse-density").select(X, 12, quality=q, tradeoff=t)
    np.testing.assert_array_equal(sel.indices, picks)
    np.testing.assert_allclose(sel.gains, gains, rtol=1e-4, atol=1e-7)
    exact = facility_location_objective(X, sel.indices, q, t, weighting="inverse-density")
    np.testing.assert_allclose(exact, gains.sum(), rtol=1e-5)
    np.testing.assert_allclose(sel.objective, exact, rtol=1e-5)


@pytest.mark.parametrize("mode", ["dense", "sparse"])
def test_inverse_density_greedy_properties(mode, monkeypatch):
    X = mixture(1200, 24, n_clusters=15, spread=1.5, seed=2)
    q = np.random.default_rng(3).gamma(2.0, size=1200)
    sel = FacilityLocation(mode=mode, n_neighbors=16, weighting="inverse-density").select(
        X, 60, quality=q, tradeoff=0.3)
    assert len(set(sel.indices.tolist())) == 60
    assert np.all(np.diff(sel.gains) <= 1e-12)
    np.testing.assert_allclose(np.sum(sel.gains), sel.objective, rtol=1e-6)
    if mode == "dense":
        monkeypatch.setattr(fl, "_STORED_SIM_BYTES", 0)  # weighted rows recomputed on the fly
        again = FacilityLocation(mode=mode, weighting="inverse-density").select(
            X, 60, quality=q, tradeoff=0.3)
        np.testing.assert_array_equal(sel.indices, again.indices)


def test_full_graph_sparse_equals_dense_weighted():
    X = unit_rows(np.abs(mixture(300, 12, n_clusters=5, spread=1.0, seed=6)))
    dense = FacilityLocation(mode="dense", weighting="inverse-density").select(X, 25, tradeoff=0.0)
    sparse = FacilityLocation(mode="sparse", n_neighbors=300, knn="exact",
                              weighting="inverse-density").select(X, 25, tradeoff=0.0)
    np.testing.assert_array_equal(dense.indices, sparse.indices)
    np.testing.assert_allclose(dense.objective, sparse.objective, rtol=1e-5)


@pytest.mark.parametrize("mode", ["dense", "sparse"])
def test_zero_rows_get_weight_zero(mode):
    X = unit_rows(np.abs(mixture(200, 8, n_clusters=4, spread=1.0, seed=17)))  # cosines >= 0
    padded = np.vstack([X, np.zeros((3, 8), dtype=np.float32)])
    w = fl._density_weights(padded, 10)
    assert np.all(w[200:] == 0) and np.all(w[:200] > 0)
    np.testing.assert_allclose(w[:200], fl._density_weights(X, 10), rtol=1e-5)
    one = FacilityLocation(mode=mode, n_neighbors=16, weighting="inverse-density")
    sel, ref = one.select(padded, 20, tradeoff=0.0), one.select(X, 20, tradeoff=0.0)
    # Selector.select makes the three zero rows one point orthogonal to the rest (unit_rows): the
    # objective separates, so that point is picked once and the other picks are the reference's, in order
    empty = np.isin(sel.indices, [200, 201, 202])
    assert empty.sum() == 1
    np.testing.assert_array_equal(sel.indices[~empty], ref.indices[:19])


def test_weighted_cache_reused_and_consistent():
    X = mixture(400, 16, n_clusters=8, spread=1.0, seed=18)
    q = np.random.default_rng(19).random(400)
    cache = {}
    for weighting in ("uniform", "inverse-density", "uniform"):
        cached = FacilityLocation(mode="dense", weighting=weighting).select(X, 20, q, 0.2, cache=cache)
        fresh = FacilityLocation(mode="dense", weighting=weighting).select(X, 20, q, 0.2)
        np.testing.assert_array_equal(cached.indices, fresh.indices)
    assert ("dense",) in cache and ("dense", 10) in cache and ("density", 10) in cache


def test_weighting_errors():
    with pytest.raises(UsageError, match="weighting"):
        FacilityLocation(weighting="density")
    with pytest.raises(UsageError, match="n_density"):
        FacilityLocation(weighting="inverse-density", n_density=0)
    with pytest.raises(UsageError, match="weighting"):
        facility_location_objective(TRIANGLE, [0], weighting="inverse")
    with pytest.raises(UsageError):
        get_selector("facility-location", weighting="idf")
