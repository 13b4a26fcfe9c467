"""farthest_point_greedy (Gonzalez's traversal and its scored variants) and k-means++ seeds."""
import numpy as np

from quadiv.geometry import euclidean_to, farthest_point_greedy, kmeans_pp


def test_farthest_first_traversal_on_a_line():
    X = np.array([[0.0], [1.0], [2.5], [10.0], [4.0]])
    picks, scores, d = farthest_point_greedy(euclidean_to(X), lambda d: d, len(X), 3, first=0)
    assert picks.tolist() == [0, 3, 4]
    np.testing.assert_allclose(scores, [2.0, 10.0, 4.0])  # the first pick scores the start distance
    np.testing.assert_allclose(d, [0.0, 1.0, 1.5, 0.0, 0.0])


def test_score_decides_ties_go_to_the_lowest_index():
    X = np.eye(3)
    q = np.array([0.2, 0.9, 0.9])
    picks, _, _ = farthest_point_greedy(euclidean_to(X), lambda d: q + 0.0 * d, 3, 3)
    assert picks.tolist() == [1, 2, 0]


def test_kmeans_pp_seeds_are_distinct_rows_and_seeded():
    rows = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    seeds = kmeans_pp(rows, 5, np.random.default_rng(1))
    assert seeds.shape == (5, 4) and seeds.dtype == np.float32
    assert len({tuple(s) for s in seeds}) == 5
    assert all(any(np.array_equal(s, r) for r in rows) for s in seeds)
    np.testing.assert_array_equal(seeds, kmeans_pp(rows, 5, np.random.default_rng(1)))
