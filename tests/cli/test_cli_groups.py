"""Per-group views on the command line: per-input diversity and bootstrap intervals per group,
rows per group before and after a selection, dedup within groups with a file of removed rows."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from quadiv import io
from quadiv.measure import per_input_diversity, vendi


def quadiv(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "quadiv", *args], capture_output=True, text=True, check=False)


def ok(*args: str) -> dict:
    proc = quadiv(*args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def answers(tmp_path: Path):
    """Two models, four prompts, three answers each; random unit embeddings beside the rows."""
    rng = np.random.default_rng(0)
    rows = [{"id": f"{m}-{p}-{j}", "model": m, "prompt": f"p{p}", "text": f"{m} answer {j} to prompt {p}",
             "q": float(rng.random())} for m in ("m1", "m2") for p in range(4) for j in range(3)]
    path = tmp_path / "answers.jsonl"
    io.write(pa.Table.from_pylist(rows), str(path))
    X = rng.normal(size=(len(rows), 16)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    np.save(tmp_path / "X.npy", X)
    return path, tmp_path / "X.npy", X, rows


def test_measure_per_input_diversity_per_group(answers):
    path, npy, X, rows = answers
    out = ok("measure", str(path), "--embeddings", str(npy), "-g", "model", "--input-field", "prompt",
             "--metrics", "vendi", "--json")
    models = np.array([r["model"] for r in rows])
    prompts = np.array([r["prompt"] for r in rows])
    for model in ("m1", "m2"):
        idx = np.flatnonzero(models == model)
        expected = np.mean([vendi(X[idx[prompts[idx] == p]]) for p in ("p0", "p1", "p2", "p3")])
        assert out["groups"][model]["per_input_vendi"] == pytest.approx(expected, rel=1e-5)
    assert out["metrics"]["per_input_vendi"] == pytest.approx(
        per_input_diversity(prompts, lambda i: vendi(X[i])), rel=1e-5)


def test_measure_bootstrap_intervals_overall_and_per_group(answers):
    path, npy, _, _ = answers
    args = ("measure", str(path), "--embeddings", str(npy), "-g", "model", "-q", "q", "--metrics", "vendi,quality_mean",
            "--bootstrap", "200", "--json")
    out = ok(*args)
    assert out == ok(*args)  # seeded
    ci = out["ci"]
    assert ci["confidence"] == 0.95 and ci["n_resamples"] == 200 and set(ci["groups"]) == {"m1", "m2"}
    for where, metrics in [("all", out["metrics"]), *((g, out["groups"][g]) for g in ("m1", "m2"))]:
        interval = ci["all"] if where == "all" else ci["groups"][where]
        lo, hi = interval["quality_mean"]
        assert lo < metrics["quality_mean"] < hi
        lo, hi = interval["vendi"]
        assert 1.0 <= lo <= hi <= metrics["vendi"] + 1e-6  # resamples repeat rows: never more diverse
    table = quadiv(*args[:-1]).stdout
    assert "95% CI" in table
    assert quadiv(*args[:-3], "--bootstrap", "1").returncode == 2


def test_select_reports_rows_per_group_before_and_after(answers, tmp_path: Path):
    path, npy, _, _ = answers
    out_path = tmp_path / "chosen.jsonl"
    out = ok("select", str(path), "--embeddings", str(npy), "-g", "model", "-n", "7", "-o", str(out_path), "--json")
    chosen = io.read(str(out_path)).column("model").to_pylist()
    assert out["groups"] == {g: {"before": 12, "after": chosen.count(g)} for g in ("m1", "m2")}
    assert sum(v["after"] for v in out["groups"].values()) == 7
    table = quadiv("select", str(path), "--embeddings", str(npy), "-g", "model", "-n", "7", "-o", str(out_path)).stdout
    assert "before" in table and "m1" in table and "12" in table


def _dedup_pool(tmp_path: Path) -> Path:
    rows = [{"id": "a", "question": "q1", "text": "Paris.", "s": 0.1},
            {"id": "b", "question": "q1", "text": "paris.", "s": 0.9},
            {"id": "c", "question": "q2", "text": "Paris.", "s": 0.5},
            {"id": "d", "question": "q2", "text": "Lyon.", "s": 0.2},
            {"id": "e", "question": "q2", "text": "PARIS. ", "s": 0.3}]
    path = tmp_path / "qa.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_dedup_within_groups_writes_removed_rows(tmp_path: Path):
    path = _dedup_pool(tmp_path)
    kept, removed = tmp_path / "kept.jsonl", tmp_path / "removed.csv"
    out = ok("dedup", str(path), "-o", str(kept), "--removed", str(removed), "-g", "question", "-q", "s", "--json")
    assert out["kept"] == 3 and out["removed"] == {"exact": 2} and out["removed_rows"] == str(removed)
    assert io.read(str(kept)).column("id").to_pylist() == ["b", "c", "d"]
    gone = io.read(str(removed)).to_pylist()
    assert [(r["id"], r["duplicate_of"], r["stage"]) for r in gone] == [("a", "b", "exact"), ("e", "c", "exact")]
    everywhere = ok("dedup", str(path), "-o", str(kept), "-q", "s", "--json")  # without groups: one Paris
    assert everywhere["kept"] == 2


def test_dedup_removed_rows_without_an_id_column_point_at_the_kept_row(tmp_path: Path):
    path = tmp_path / "plain.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in ["x y", "z", "X  y"]))
    kept, removed = tmp_path / "kept.jsonl", tmp_path / "removed.jsonl"
    ok("dedup", str(path), "-o", str(kept), "--removed", str(removed), "--json")
    (gone,) = io.read(str(removed)).to_pylist()
    (target,) = [r for r in io.read(str(kept)).to_pylist() if r["id"] == gone["duplicate_of"]]
    assert gone["text"] == "X  y" and target["text"] == "x y" and gone["stage"] == "exact"


@pytest.mark.parametrize("which", ["input", "output", "missing folder"])
def test_dedup_refuses_a_removed_path_that_is_the_input_or_the_output(tmp_path: Path, which: str):
    path = _dedup_pool(tmp_path)
    before = path.read_bytes()
    kept = tmp_path / "kept.jsonl"
    target = {"input": path, "output": kept, "missing folder": tmp_path / "no" / "r.jsonl"}[which]
    proc = quadiv("dedup", str(path), "-o", str(kept), "--removed", str(target))
    assert proc.returncode == 2 and proc.stderr.startswith("error: --removed" if which != "missing folder"
                                                           else "error: the folder")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert path.read_bytes() == before and not kept.exists()
