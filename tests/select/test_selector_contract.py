"""The contract every registered selector keeps: one geometry, one knob name, a declared objective direction."""
import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.select import SELECTORS, get_selector, select

LOWER_IS_BETTER = {"k-center", "d3"}  # their objective is a covering radius


def pool(n: int = 60, d: int = 12, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True), rng.random(n), np.arange(n) % 3


@pytest.mark.parametrize("method", sorted(SELECTORS))
def test_the_same_rows_give_the_same_selection_normalised_or_not(method):
    """Rows are normalised once at the boundary: scaling each row by a positive factor changes nothing.

    (At tradeoff 0 a method may face exact ties, e.g. dpp's first pick among equal residuals, which
    float32 rounding then breaks either way; with quality in play there are none.)
    """
    U, quality, groups = pool()
    scaled = U * np.random.default_rng(1).uniform(0.2, 7.0, size=(len(U), 1))
    for tradeoff in (0.25, 0.5):
        a = get_selector(method).select(U, 12, quality=quality, tradeoff=tradeoff, groups=groups, seed=3)
        b = get_selector(method).select(scaled, 12, quality=quality, tradeoff=tradeoff, groups=groups, seed=3)
        assert a.indices.tolist() == b.indices.tolist(), (method, tradeoff)
        assert a.objective == pytest.approx(b.objective, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("method", sorted(SELECTORS))
def test_selection_records_the_tradeoff_and_the_direction_of_its_objective(method):
    U, quality, groups = pool()
    sel = get_selector(method).select(U, 8, quality=quality, tradeoff=0.3, groups=groups, seed=0)
    assert sel.tradeoff == 0.3
    assert sel.higher_is_better is (method not in LOWER_IS_BETTER)
    assert not {"theta", "lambda", "t"} & set(sel.params)  # the knob has one name: Selection.tradeoff


def test_top_quality_without_quality_names_the_argument_and_an_existing_flag():
    from quadiv.errors import UsageError

    U, _, _ = pool()
    with pytest.raises(UsageError, match=r"pass quality \(CLI: --quality-field\)"):
        get_selector("top-quality").select(U, 3)


@pytest.mark.parametrize("method", SELECTORS.names())
def test_constructors_hold_parameters_only_and_data_goes_to_select(method):
    selector = get_selector(method)
    assert not [k for k, v in vars(selector).items() if isinstance(v, (np.ndarray, dict, list))], method
    with pytest.raises(UsageError, match=f"method '{method}' takes no weights_per_row"):
        selector.select(np.eye(4), 2, weights_per_row=np.ones(4))


def test_data_reaches_select_by_name_through_the_top_level_function():
    X = np.eye(6)
    q = np.arange(6.0)
    chosen = select(X, 2, method="d3", quality=q, tradeoff=1.0, difficulty=-q, dependability=-q).indices
    assert sorted(chosen) == [0, 1]
    assert "difficulty" not in vars(get_selector("d3"))
