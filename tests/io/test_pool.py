"""pool_quality: the policy for missing or NaN quality scores."""
import json

import numpy as np
import pytest

from quadiv import pool_quality, read
from quadiv.errors import InputError, UsageError


@pytest.fixture
def pool(tmp_path):
    path = tmp_path / "pool.jsonl"
    rows = [{"text": "a", "q": 1.0}, {"text": "b", "q": None}, {"text": "c", "q": 3.0}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return read(str(path))


def test_drop_min_and_no_field(pool):
    X = np.arange(6.0).reshape(3, 2)
    kept, X_kept, q = pool_quality(pool, X, "q", "drop")
    assert len(kept) == 2 and X_kept.tolist() == [[0.0, 1.0], [4.0, 5.0]] and q.tolist() == [1.0, 3.0]
    same, X_same, q = pool_quality(pool, X, "q", "min")
    assert same is pool and X_same is X and q.tolist() == [1.0, 1.0, 3.0]
    assert pool_quality(pool, X, None, "drop") == (pool, X, None)


def test_error_policy_and_a_wrong_policy(pool):
    with pytest.raises(InputError):
        pool_quality(pool, None, "q")
    with pytest.raises(UsageError, match="error, drop or min"):
        pool_quality(pool, None, "q", "zero")
