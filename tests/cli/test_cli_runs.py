"""The commands on real data: the JSON contract, the written rows, and agreement with the API."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from quadiv import io
from quadiv.measure import vendi


def run(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "quadiv", *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_measure_json_contract(small_pool):
    path, npy, X = small_pool
    out = json.loads(run("measure", str(path), "--embeddings", str(npy), "-g", "generator", "-q", "quality",
                         "--json").stdout)
    assert set(out) >= {"n", "embedder", "metrics", "groups"}
    assert out["n"] == 300 and out["field"] == "output"
    assert out["metrics"]["vendi"] == pytest.approx(vendi(X), rel=1e-6)
    assert set(out["groups"]) == {"alpaca-7b", "claude-2.1", "gemma-7b-it"}
    assert all(isinstance(v, (float, int)) or v is None for v in out["metrics"].values())


def test_measure_table_output(small_pool):
    path, npy, _ = small_pool
    text = run("measure", str(path), "--embeddings", str(npy), "--metrics", "vendi,distinct_2").stdout
    assert "vendi" in text and "distinct_2" in text and "300" in text


def test_select_writes_chosen_rows_in_order(small_pool, tmp_path: Path):
    path, npy, X = small_pool
    out_path = tmp_path / "chosen.parquet"
    report = json.loads(run("select", str(path), "--embeddings", str(npy), "-q", "quality", "-n", "25",
                            "--method", "dpp", "--tradeoff", "0.5", "-o", str(out_path), "--json").stdout)
    assert report["selected"] == 25 and report["method"] == "dpp"
    chosen = io.read(str(out_path))
    source = io.read(str(path))
    assert chosen.num_rows == 25 and chosen.column_names == source.column_names
    ids = chosen.column("id").to_pylist()
    assert len(set(ids)) == 25
    from quadiv.select import select

    expected = select(X, 25, method="dpp", quality=np.array(source.column("quality").to_pylist()), tradeoff=0.5)
    assert ids == [source.column("id")[int(i)].as_py() for i in expected.indices]
    assert report["metrics"]["after"]["vendi"] == pytest.approx(vendi(X[expected.indices]), rel=1e-6)


def test_dedup_keeps_the_best_of_each_duplicate_group(tmp_path: Path):
    rows = [{"id": "a", "text": "The cat sat on the mat.", "q": 0.2},
            {"id": "b", "text": "the  cat sat on the mat.", "q": 0.9},  # same text once normalised
            {"id": "c", "text": "A completely different sentence here.", "q": 0.1},
            {"id": "d", "text": "The cat sat on the mat.", "q": 0.5}]
    path = tmp_path / "pool.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "kept.csv"
    summary = json.loads(run("dedup", str(path), "-q", "q", "-o", str(out), "--json").stdout)
    assert summary == {"n": 4, "kept": 2, "removed": {"exact": 2}, "output": str(out)}
    assert sorted(io.read(str(out)).column("id").to_pylist()) == ["b", "c"]
