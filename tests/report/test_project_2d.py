"""project_2d against scikit-learn's PCA, and map_rows."""
import numpy as np
import pytest
from sklearn.decomposition import PCA

from quadiv.errors import UsageError
from quadiv.report import map_rows, project_2d


def _same_up_to_sign(a: np.ndarray, b: np.ndarray) -> None:
    for j in range(2):
        sign = np.sign(a[:, j] @ b[:, j]) or 1.0
        np.testing.assert_allclose(a[:, j], sign * b[:, j], atol=1e-8)


@pytest.mark.parametrize("shape", [(200, 12), (15, 40)])  # scatter matrix and Gram matrix paths
def test_matches_sklearn_pca(shape):
    X = np.random.default_rng(0).normal(size=shape) * np.linspace(3, 0.5, shape[1])
    xy, rows = project_2d(X)
    np.testing.assert_array_equal(rows, np.arange(shape[0]))
    _same_up_to_sign(xy, PCA(n_components=2, svd_solver="full").fit_transform(X))


def test_sign_convention_and_invariance_to_flipping():
    X = np.random.default_rng(1).normal(size=(50, 6))
    xy, _ = project_2d(X)
    for j in range(2):
        assert xy[np.argmax(np.abs(xy[:, j])), j] > 0
    np.testing.assert_allclose(project_2d(-X)[0], xy, atol=1e-9)


def test_subsample_is_seeded_sorted_and_projected_alone():
    X = np.random.default_rng(2).normal(size=(500, 10)).astype(np.float32)
    xy, rows = project_2d(X, max_points=100, seed=3)
    assert rows.size == 100 and np.all(np.diff(rows) > 0)
    np.testing.assert_array_equal(rows, project_2d(X, max_points=100, seed=3)[1])
    assert not np.array_equal(rows, project_2d(X, max_points=100, seed=4)[1])
    np.testing.assert_allclose(xy, project_2d(X[rows])[0], atol=1e-9)


def test_degenerate_shapes_give_zero_columns():
    xy, _ = project_2d(np.arange(5.0)[:, None])
    np.testing.assert_allclose(np.abs(xy[:, 0]), np.abs(np.arange(5.0) - 2))
    assert np.all(xy[:, 1] == 0)
    assert np.all(project_2d(np.ones((1, 4)))[0] == 0)


@pytest.mark.parametrize("X, kwargs", [(np.ones(5), {}), (np.array([[1.0, np.nan]]), {}),
                                       (np.ones((3, 2)), {"max_points": 0}), (np.array([["a", "b"]]), {})])
def test_bad_input_raises_usage_error(X, kwargs):
    with pytest.raises(UsageError):
        project_2d(X, **kwargs)


def test_map_rows_marks_chosen_and_labels_sampled_rows():
    X = np.random.default_rng(4).normal(size=(60, 5))
    labels = [f"g{i}" for i in range(60)]
    out = map_rows(X, chosen=[3, 10, 59], labels=labels, max_points=20, seed=0)
    _, rows = project_2d(X, max_points=20, seed=0)
    assert len(out["x"]) == len(out["y"]) == len(out["chosen"]) == len(out["label"]) == 20
    assert out["chosen"] == [int(r) in (3, 10, 59) for r in rows]
    assert out["label"] == [f"g{r}" for r in rows]
    with pytest.raises(UsageError):
        map_rows(X, chosen=[60])
    with pytest.raises(UsageError):
        map_rows(X, labels=labels[:-1])
