"""group_rows, sample_rows and selection_rows: the row-level panels built from a pool and a selection."""
import numpy as np
import pyarrow as pa
import pytest

from quadiv.errors import UsageError
from quadiv.report import group_rows, sample_rows, selection_rows


def test_group_rows_means_before_and_after():
    labels = ["b", "a", "b", "c", "a", "b"]
    quality = [1.0, 2.0, 3.0, 4.0, 6.0, 5.0]
    out = group_rows(labels, quality, chosen=[4, 0, 2])
    assert out["labels"] == ["a", "b", "c"]
    assert out["quality"] == {"before": [4.0, 3.0, 4.0], "after": [6.0, 2.0, None]}
    assert out["n"] == {"before": [2, 3, 1], "after": [1, 2, 0]}


def test_group_rows_without_selection_and_errors():
    out = group_rows(np.array([1, 2, 1]), np.array([0.5, 1.0, 1.5]))
    assert out == {"labels": ["1", "2"], "quality": {"all": [1.0, 1.0]}, "n": {"all": [2, 1]}}
    with pytest.raises(UsageError):
        group_rows(["a"], [1.0, 2.0])
    with pytest.raises(UsageError):
        group_rows(["a", "b"], [1.0, 2.0], chosen=[2])


def test_sample_rows_takes_chosen_in_order_and_others_at_random():
    table = pa.table({"id": list(range(30)), "text": [f"t{i}" for i in range(30)]})
    chosen = [7, 3, 20, 11]
    out = sample_rows(table, chosen, k=3, seed=0)
    assert [r["id"] for r in out["chosen_rows"]] == [7, 3, 20]
    ids = [r["id"] for r in out["rejected_rows"]]
    assert len(ids) == 3 and ids == sorted(ids) and not set(ids) & set(chosen)
    assert sample_rows(table, list(range(29)), k=5)["rejected_rows"] == [{"id": 29, "text": "t29"}]


def test_selection_rows_holds_every_panel_of_a_selection():
    rng = np.random.default_rng(0)
    table = pa.table({"id": list(range(12)), "text": [f"t{i}" for i in range(12)]})
    X, quality, groups = rng.normal(size=(12, 4)), np.arange(12.0), np.array(["a", "b"] * 6)
    chosen = np.array([5, 2, 9])
    rows = selection_rows(table, X, chosen, quality, groups, seed=1)
    assert rows["quality_after"] == [5.0, 2.0, 9.0] and rows["quality_before"] == quality.tolist()
    assert rows["groups"] == group_rows(groups, quality, chosen)
    assert [r["id"] for r in rows["chosen_rows"]] == [5, 2, 9] and rows["map"]["total"] == 12
    assert set(selection_rows(table, X, chosen, seed=1)) == {"map", "chosen_rows", "rejected_rows"}
