"""Shared test set-up: everything offline; the shared real data (CI always has ../shared); pool files in every shape."""
import gzip
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


# One small pool, written in any input shape a new user brings (see tests/cli/test_input_matrix.py).
ROWS = [{"question": f"question {i % 4}", "answer": f"answer {i} talks about {['cats', 'rain', 'maths'][i % 3]}",
         "score": round(0.1 * i, 2), "model": "ab"[i % 2]} for i in range(12)]


def _write_pool(folder: Path, fmt: str, ids: str) -> Path:
    rows = [dict(r) for r in ROWS]
    if ids != "none":
        for i, row in enumerate(rows):
            row["id"] = 100 + i if ids == "int" else f"row-{i}"
    if fmt == "hf":
        from datasets import Dataset

        path = folder / "pool_hf"
        Dataset.from_list(rows).save_to_disk(str(path))
        return path
    path = folder / f"pool.{fmt.replace('json-data', 'json')}"
    if fmt in ("jsonl", "jsonl.gz"):
        text = "".join(json.dumps(r) + "\n" for r in rows)
    elif fmt == "json":
        text = json.dumps(rows)
    elif fmt == "json-data":
        text = json.dumps({"data": rows})
    elif fmt in ("csv", "csv.gz", "tsv"):
        sep = "\t" if fmt == "tsv" else ","
        names = list(rows[0])
        text = sep.join(names) + "\n" + "".join(sep.join(str(r[n]) for n in names) + "\n" for r in rows)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
        return path
    if fmt.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


@pytest.fixture
def write_pool():
    """Factory: ``write_pool(folder, fmt, ids)`` writes the 12-row pool ROWS as ``fmt`` (jsonl, jsonl.gz, json,
    json-data, csv, csv.gz, tsv, parquet, hf) with ids "none", "int" (100..111) or "text" ("row-0"...)."""
    return _write_pool
