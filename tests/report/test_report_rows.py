"""group_rows and sample_rows: the row-level panels built from a pool and a selection."""
import numpy as np
import pyarrow as pa
import pytest

from quadiv.errors import UsageError
from quadiv.report import group_rows, sample_rows


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
