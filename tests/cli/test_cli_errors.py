"""Bad input gives exit code 2 and one line naming the file and the fix; never a traceback or output."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "quadiv", *args], capture_output=True, text=True, cwd=cwd)


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.fixture
def pool(tmp_path: Path) -> tuple[Path, Path]:
    rows = [{"id": f"r{i}", "text": f"item number {i} about topic {i % 3}", "q": i / 10, "g": "ab"[i % 2]}
            for i in range(10)]
    path = tmp_path / "pool.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    X = np.random.default_rng(0).normal(size=(10, 8)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    np.save(tmp_path / "X.npy", X)
    return path, tmp_path / "X.npy"


def test_malformed_jsonl_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "fine"}\n{"text": "broken"\n{"text": "fine"}\n')
    assert_one_line_error(run("measure", str(path), "--embeddings", "x.npy"), "bad.jsonl", "line 2")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    assert_one_line_error(run("measure", str(path)), "empty.jsonl")


def test_missing_file(tmp_path: Path) -> None:
    assert_one_line_error(run("measure", str(tmp_path / "nope.jsonl")), "nope.jsonl")


def test_missing_field(pool) -> None:
    path, X = pool
    assert_one_line_error(run("measure", str(path), "--field", "answer", "--embeddings", str(X)),
                          "pool.jsonl", "answer")


def test_nan_quality(tmp_path: Path, pool) -> None:
    _, X = pool
    path = tmp_path / "nan.csv"
    path.write_text("text,q\n" + "".join(f"t{i},{'nan' if i == 4 else i}\n" for i in range(10)))
    assert_one_line_error(run("measure", str(path), "-q", "q", "--embeddings", str(X)), "nan.csv", "q")


def test_unreadable_csv(tmp_path: Path) -> None:
    path = tmp_path / "garbage.csv"
    path.write_bytes(b'text,q\n"unterminated,1\n\x00\xff\xfe,2\n')
    assert_one_line_error(run("measure", str(path)), "garbage.csv")


def test_budget_larger_than_pool_leaves_no_output(pool) -> None:
    path, X = pool
    out = path.parent / "out.jsonl"
    proc = run("select", str(path), "--budget", "11", "--embeddings", str(X), "-o", str(out))
    assert_one_line_error(proc, "budget 11", "10")
    assert not out.exists()
    assert sorted(p.name for p in path.parent.iterdir()) == ["X.npy", "pool.jsonl"]


def test_embeddings_of_wrong_length(tmp_path: Path, pool) -> None:
    path, _ = pool
    np.save(tmp_path / "short.npy", np.ones((3, 4), dtype=np.float32))
    assert_one_line_error(run("measure", str(path), "--embeddings", str(tmp_path / "short.npy")), "short.npy")


def test_unknown_metric_and_method(pool) -> None:
    path, X = pool
    assert_one_line_error(run("measure", str(path), "--embeddings", str(X), "--metrics", "vendi,nonsense"), "nonsense")
    assert_one_line_error(run("select", str(path), "-n", "2", "--method", "nope", "--embeddings", str(X),
                              "-o", str(path.parent / "o.jsonl")), "nope")


def test_quality_missing_policies(tmp_path: Path, pool) -> None:
    _, X = pool
    path = tmp_path / "gaps.csv"
    path.write_text("text,q\n" + "".join(f"t{i},{'' if i in (2, 5) else i}\n" for i in range(10)))
    assert_one_line_error(run("measure", str(path), "-q", "q", "--embeddings", str(X)), "gaps.csv", "row 3",
                          "--quality-missing")
    dropped = json.loads(run("measure", str(path), "-q", "q", "--embeddings", str(X), "--quality-missing", "drop",
                             "--metrics", "quality_mean,vendi", "--json").stdout)
    assert dropped["n"] == 8 and dropped["metrics"]["quality_mean"] == np.mean([0, 1, 3, 4, 6, 7, 8, 9])
    filled = json.loads(run("measure", str(path), "-q", "q", "--embeddings", str(X), "--quality-missing", "min",
                            "--metrics", "quality_mean", "--json").stdout)
    assert filled["n"] == 10 and filled["metrics"]["quality_mean"] == pytest.approx(38 / 10)  # the gaps get the minimum, 0


def test_library_argument_names_become_flags_in_cli_messages() -> None:
    from quadiv.cli._common import as_flags

    assert as_flags("`quality_missing` must be error, drop or min; see `quadiv methods`") == \
        "--quality-missing must be error, drop or min; see `quadiv methods`"
