"""`quadiv score` and `--quality heuristic` as users run them: subprocesses on the shared real answers."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from quadiv import io


def quadiv(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "quadiv", *args], capture_output=True, text=True, env=env)


@pytest.fixture
def env(tmp_path: Path) -> dict:
    return {**os.environ, "QUADIV_CACHE": str(tmp_path / "cache")}


@pytest.fixture
def no_quality(tmp_path: Path, alpaca_rows) -> Path:
    """400 real answers as CSV with neither an id nor a quality column, the instruction under another name."""
    import pyarrow as pa

    path = tmp_path / "answers.csv"
    rows = alpaca_rows[:400]
    io.write(pa.table({"ask": [r["instruction"] for r in rows], "reply": [r["output"] for r in rows]}), str(path))
    return path


def test_select_with_quality_heuristic_on_a_file_without_quality(no_quality, tmp_path):
    out = tmp_path / "chosen.jsonl"  # the session's cache: the static embedder is built once per run
    proc = quadiv("select", str(no_quality), "--field", "reply", "--quality", "heuristic", "--tradeoff", "0.5",
                  "-n", "40", "-o", str(out), "--json", env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    chosen = io.read(str(out))
    assert chosen.num_rows == 40 and chosen.column_names == ["id", "ask", "reply", "heuristic"]
    assert summary["metrics"]["after"]["quality_mean"] > summary["metrics"]["before"]["quality_mean"]


def test_score_writes_heuristic_columns_and_a_second_run_hits_the_cache(no_quality, tmp_path, env):
    out = tmp_path / "scored.parquet"
    proc = quadiv("score", str(no_quality), "--field", "reply", "-o", str(out), "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    table = io.read(str(out))
    for column in ("heuristic", "gopher_quality_keep", "gopher_repetition_keep", "c4_keep", "fineweb_keep",
                   "gopher_quality_words", "fineweb_list_ratio"):
        assert column in table.column_names, column
    assert table["reply"].to_pylist() == io.read(str(no_quality))["reply"].to_pylist()
    summary = json.loads(proc.stdout)["scores"]["heuristic"]
    assert summary["scored"] == 400 and summary["true_counts"]["c4_keep"] == int(np.sum(table["c4_keep"]))
    again = tmp_path / "again.parquet"
    assert quadiv("score", str(no_quality), "--field", "reply", "-o", str(again), env=env).returncode == 0
    assert io.read(str(again)).equals(table)


def test_a_killed_score_run_resumes_without_rescoring(alpaca_path, tmp_path, env):
    out = tmp_path / "scored.jsonl"
    args = [sys.executable, "-m", "quadiv", "score", str(alpaca_path), "--param", "batch_size=100",
            "--param", "tokenizer=datatrove", "-o", str(out), "--quiet"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    db = Path(env["QUADIV_CACHE"]) / "scores.sqlite"
    deadline, stored = time.monotonic() + 120, 0
    while time.monotonic() < deadline and proc.poll() is None and stored < 300:
        time.sleep(0.2)
        if db.exists():
            with sqlite3.connect(db) as conn:
                stored = conn.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 300 <= stored < 8050 and not out.exists()
    with sqlite3.connect(db) as conn:
        before = conn.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
    rerun = subprocess.run(args, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    fresh = tmp_path / "fresh.jsonl"
    cold = {**env, "QUADIV_CACHE": str(tmp_path / "cold")}
    assert subprocess.run([*args[:-3], "-o", str(fresh), "--quiet"], env=cold).returncode == 0
    assert io.read(str(out)).equals(io.read(str(fresh)))  # resumed = scored from scratch
    assert before >= 300  # what the killed run committed was kept, and reused


@pytest.mark.parametrize("args, message", [
    (("--scorer", "nope"), "unknown scorer 'nope'"),
    (("--scorer", "heuristic", "--param", "tokenizer=nltk"), "whitespace or datatrove"),
    (("--scorer", "heuristic", "--param", "width=3"), "no scorer of this run takes parameter 'width'"),
])
def test_bad_scorer_arguments_are_one_line_and_write_nothing(no_quality, tmp_path, env, args, message):
    out = tmp_path / "scored.jsonl"
    proc = quadiv("score", str(no_quality), "--field", "reply", *args, "-o", str(out), env=env)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not out.exists()


def test_a_judge_server_that_is_down_and_a_missing_model_are_one_line(no_quality, tmp_path, env):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "scored.jsonl"
    for args in (("--scorer", "judge:m", "--param", f"base_url=http://127.0.0.1:{port}/v1", "--param",
                  "capabilities=chat", "--instruction-field", "ask"),
                 ("--scorer", f"rm:{tmp_path / 'no-model'}")):
        proc = quadiv("score", str(no_quality), "--field", "reply", *args, "-o", str(out), env=env)
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
        assert not out.exists()
