"""Shared test set-up: everything offline; the shared real data (CI always has ../shared)."""
import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ALPACA = SHARED_DATA / "alpaca_eval_outputs.jsonl"


@pytest.fixture(scope="session")
def alpaca_path() -> Path:
    """The shared AlpacaEval answers (CI always has ../shared); skip with a reason elsewhere."""
    if not ALPACA.exists():
        pytest.skip(f"shared data not found at {ALPACA}: clone the project beside ../shared")
    return ALPACA


@pytest.fixture(scope="session")
def alpaca_rows(alpaca_path: Path) -> list[dict]:
    """The 8,050 AlpacaEval rows as dicts."""
    with alpaca_path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture(scope="session")
def small_pool(tmp_path_factory, alpaca_path: Path):
    """300 real answers (100 each from 3 models) as JSONL, with random unit embeddings saved beside them."""
    import numpy as np

    from quadiv import io

    table = io.read(str(alpaca_path))
    generators = np.array(table.column("generator").to_pylist())
    keep = np.concatenate([np.flatnonzero(generators == g)[:100] for g in ("alpaca-7b", "claude-2.1", "gemma-7b-it")])
    folder = tmp_path_factory.mktemp("pool")
    path = folder / "pool.jsonl"
    io.write(io.take(table, keep), str(path))
    X = np.random.default_rng(0).normal(size=(len(keep), 32)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    np.save(folder / "X.npy", X)
    return path, folder / "X.npy", X
